import { clientAddress, pickLanguage } from './negotiation';

describe('pickLanguage', () => {
  it('reads any Chinese tag as zh, English as en, by q', () => {
    const langs = ['zh', 'en'] as const;
    expect(pickLanguage('zh-CN,zh;q=0.9,en;q=0.8', langs, 'zh')).toBe('zh');
    expect(pickLanguage('en-US,en;q=0.9', langs, 'zh')).toBe('en');
    expect(pickLanguage('zh-TW;q=0.4, en-GB;q=0.7', langs, 'zh')).toBe('en');
    expect(pickLanguage('fr-FR, de;q=0.5', langs, 'zh')).toBe('zh');
    expect(pickLanguage(undefined, langs, 'en')).toBe('en');
    expect(pickLanguage('en;q=0, zh;q=0.1', langs, 'en')).toBe('zh');
  });
});

describe('clientAddress', () => {
  it('ignores X-Forwarded-For unless proxies are trusted', () => {
    expect(clientAddress('::ffff:10.0.0.5', '1.2.3.4', 0)).toBe('10.0.0.5');
    expect(clientAddress('10.0.0.5', undefined, 1)).toBe('10.0.0.5');
  });

  it('takes the address the trusted proxy saw, not what the client wrote', () => {
    expect(clientAddress('10.0.0.5', '203.0.113.9', 1)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.5', 'forged, 203.0.113.9', 1)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.5', ['forged', '203.0.113.9, 10.0.0.4'], 2)).toBe('203.0.113.9');
    expect(clientAddress('10.0.0.5', '203.0.113.9', 5)).toBe('203.0.113.9');
  });

  it('behind one proxy, one address: that address, normalised; a blank header: the peer', () => {
    expect(clientAddress('::ffff:10.0.0.5', ' ::ffff:203.0.113.9 ', 1)).toBe('203.0.113.9');
    expect(clientAddress('::ffff:10.0.0.5', ' ', 1)).toBe('10.0.0.5');
    expect(clientAddress('::ffff:10.0.0.5', [], 1)).toBe('10.0.0.5');
    expect(clientAddress(undefined, ' ', 1)).toBe('unknown');
  });
});
