/** Hosts a request may name when PUBLIC_BASE_URL is unset: this machine only (development, `npm start`). */
export const DEFAULT_PUBLIC_HOSTS = 'localhost,127.0.0.1,[::1]';

/**
 * The origin printed in links that leave the system (QR codes, Link headers,
 * linksets): PUBLIC_BASE_URL when configured; else the origin the request came
 * to, but only when its Host is on the allow-list (PUBLIC_HOSTS: `host` for
 * any port, `host:port` for that port). Any other Host — forged, garbled or
 * merely unknown — yields relative links rather than a link to someone else.
 */
export function publicBaseUrl(
  configured: string | undefined,
  protocol: string | undefined,
  host: string | undefined,
  allowedHosts: string = DEFAULT_PUBLIC_HOSTS,
): string {
  if (configured) return configured.replace(/\/+$/, '');
  const m = host ? /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/.exec(host) : null;
  if (!m) return '';
  const name = m[1].toLowerCase();
  const allowed = allowedHosts
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .some((entry) => entry === name || entry === `${name}:${m[2] ?? ''}`);
  if (!allowed) return '';
  const scheme = protocol === 'https' ? 'https' : 'http';
  return `${scheme}://${host}`;
}
