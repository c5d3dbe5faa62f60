/**
 * The origin printed in links that leave the system (QR codes, linksets):
 * PUBLIC_BASE_URL when configured, else the origin the request came to —
 * when its Host header is a plain host[:port]; anything else (a forged or
 * garbled Host) yields relative links rather than a link to someone else.
 */
export function publicBaseUrl(configured: string | undefined, protocol: string | undefined, host: string | undefined): string {
  if (configured) return configured.replace(/\/+$/, '');
  const scheme = protocol === 'https' ? 'https' : 'http';
  return host && /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host) ? `${scheme}://${host}` : '';
}
