import { addressRefusal, classifyAddress, resolveTarget, TargetRefused } from './address';
import { signBody, verifySignature } from './signature';

describe('webhook target addresses', () => {
  it.each([
    ['93.184.216.34', 'public'],
    ['2606:4700::1111', 'public'],
    ['127.0.0.1', 'private'],
    ['127.8.9.10', 'private'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['0.0.0.0', 'private'],
    ['::1', 'private'],
    ['::', 'private'],
    ['fd12:3456::1', 'private'],
    ['::ffff:127.0.0.1', 'private'],
    ['::ffff:a00:1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.100.100.200', 'link-local'],
    ['fe80::1', 'link-local'],
    ['::ffff:169.254.169.254', 'link-local'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it('WEBHOOK_ALLOW_PRIVATE lets loopback and private through, never link-local or metadata', () => {
    expect(addressRefusal('127.0.0.1', false)).toMatch(/loopback or private/);
    expect(addressRefusal('127.0.0.1', true)).toBeUndefined();
    expect(addressRefusal('10.0.0.1', true)).toBeUndefined();
    expect(addressRefusal('169.254.169.254', true)).toMatch(/link-local/);
    expect(addressRefusal('fe80::1', true)).toMatch(/link-local/);
    expect(addressRefusal('8.8.8.8', false)).toBeUndefined();
  });

  it('checks IP literals without a lookup and names localhost as what it resolves to', async () => {
    await expect(resolveTarget(new URL('http://[::1]:8080/hook'), false)).rejects.toBeInstanceOf(TargetRefused);
    await expect(resolveTarget(new URL('http://127.0.0.1:8080/hook'), true)).resolves.toEqual({ address: '127.0.0.1', family: 4 });
    await expect(resolveTarget(new URL('http://localhost:8080/hook'), false)).rejects.toThrow(/localhost resolves to .* loopback or private/);
  });
});

describe('webhook signatures', () => {
  it('is the hex HMAC-SHA256 of the raw body with the secret, and verifies only the same bytes', () => {
    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    expect(signBody('what do ya want for nothing?', 'Jefe')).toBe('sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    const body = '{"id":"1","type":"recall.started"}';
    expect(verifySignature(body, 'secret', signBody(body, 'secret'))).toBe(true);
    expect(verifySignature(`${body} `, 'secret', signBody(body, 'secret'))).toBe(false);
    expect(verifySignature(body, 'other', signBody(body, 'secret'))).toBe(false);
    expect(verifySignature(body, 'secret', undefined)).toBe(false);
  });
});
