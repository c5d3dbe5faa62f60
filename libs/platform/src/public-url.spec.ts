import { publicBaseUrl } from './public-url';

describe('publicBaseUrl', () => {
  it('prefers the configured origin', () => {
    expect(publicBaseUrl('https://id.example.com/', 'http', 'internal:8080')).toBe('https://id.example.com');
  });
  it('falls back to the request origin, and to relative links for a strange Host', () => {
    expect(publicBaseUrl(undefined, 'http', '127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    expect(publicBaseUrl(undefined, 'https', 'scan.example.cn')).toBe('https://scan.example.cn');
    expect(publicBaseUrl(undefined, 'http', '[::1]:8080')).toBe('http://[::1]:8080');
    for (const host of ['evil.com@x', 'a b', 'x/y', '', undefined]) expect(publicBaseUrl(undefined, 'http', host)).toBe('');
  });
});
