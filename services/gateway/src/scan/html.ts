/** The template helper is the platform's, shared with the agri certificate page. */
export { escapeHtml, html, SafeHtml, trustedHtml } from '@trace/platform';
