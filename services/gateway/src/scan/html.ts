/** The template helper is the platform's, shared with the agri certificate page. */
export { escapeHtml, html, pageHead, SafeHtml, trustedHtml } from '@trace/platform';
