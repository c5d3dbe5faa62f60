import { publicBaseUrl } from './public-url';

describe('publicBaseUrl', () => {
  it('prefers the configured origin', () => {
    expect(publicBaseUrl('https://id.example.com/', 'http', 'internal:8080')).toBe('https://id.example.com');
  });
  it('falls back to the request origin only for an allowed host, and to relative links for anything else', () => {
    expect(publicBaseUrl(undefined, 'http', '127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(publicBaseUrl(undefined, 'http', 'localhost:3000')).toBe('http://localhost:3000');
    expect(publicBaseUrl(undefined, 'http', '[::1]:8080')).toBe('http://[::1]:8080');
    // An arbitrary Host header never ends up in a link (issue 13).
    expect(publicBaseUrl(undefined, 'https', 'evil.example')).toBe('');
    for (const host of ['evil.com@x', 'a b', 'x/y', '', undefined, 'localhost.evil.example', 'LOCALHOST:1']) {
      expect(publicBaseUrl(undefined, 'http', host)).toBe(host === 'LOCALHOST:1' ? 'http://LOCALHOST:1' : '');
    }
  });
  it('takes an allow-list of hosts (any port) and host:port entries (that port)', () => {
    const allowed = 'scan.example.cn, id.example.com:8443';
    expect(publicBaseUrl(undefined, 'https', 'scan.example.cn', allowed)).toBe('https://scan.example.cn');
    expect(publicBaseUrl(undefined, 'https', 'scan.example.cn:444', allowed)).toBe('https://scan.example.cn:444');
    expect(publicBaseUrl(undefined, 'https', 'id.example.com:8443', allowed)).toBe('https://id.example.com:8443');
    expect(publicBaseUrl(undefined, 'https', 'id.example.com', allowed)).toBe('');
    expect(publicBaseUrl(undefined, 'http', '127.0.0.1:8080', allowed)).toBe('');
  });
});
