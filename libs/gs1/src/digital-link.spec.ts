import { formatDigitalLink, parseDigitalLink } from './digital-link';
import { Gs1Error } from './errors';

const gs1 = (code: string) => expect.objectContaining({ name: 'Gs1Error', code });
const GTIN = '09506000134352';
const CSET82_CHARS = `!"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz`;

describe('parseDigitalLink', () => {
  it('parses a path with lot, serial and an expiry attribute', () => {
    expect(parseDigitalLink('/01/09506000134352/10/LOT1/21/SER1?17=261231')).toEqual({
      gtin: GTIN,
      lot: 'LOT1',
      serial: 'SER1',
      attributes: { '17': '261231' },
    });
  });

  it('parses a full URI', () => {
    const link = parseDigitalLink('https://id.gs1.org/01/09506000134352/10/ABC');
    expect(link).toEqual({ gtin: GTIN, lot: 'ABC', attributes: {} });
    expect(link).not.toHaveProperty('serial');
  });

  it('accepts http, any letter case in the scheme, a port, and ignores the fragment', () => {
    expect(parseDigitalLink('http://example.com/01/09506000134352').gtin).toBe(GTIN);
    expect(parseDigitalLink('HTTPS://Example.com:8443/01/09506000134352').gtin).toBe(GTIN);
    expect(parseDigitalLink('/01/09506000134352/21/S1#top')).toEqual({ gtin: GTIN, serial: 'S1', attributes: {} });
  });

  it.each([
    ['9506000134352', GTIN],
    ['036000291452', '00036000291452'],
    ['96385074', '00000096385074'],
  ])('pads GTIN %s to %s', (input, gtin14) => {
    expect(parseDigitalLink(`/01/${input}`).gtin).toBe(gtin14);
  });

  it('parses all three qualifiers in order 22, 10, 21', () => {
    expect(parseDigitalLink('/01/09506000134352/22/V1/10/L1/21/S1')).toEqual({
      gtin: GTIN,
      cpv: 'V1',
      lot: 'L1',
      serial: 'S1',
      attributes: {},
    });
  });

  it('allows qualifiers to be skipped', () => {
    expect(parseDigitalLink('/01/09506000134352/21/S1').serial).toBe('S1');
    expect(parseDigitalLink('/01/09506000134352/22/V1/21/S1')).toMatchObject({ cpv: 'V1', serial: 'S1' });
  });

  it.each([
    '/01/09506000134352/21/S1/10/L1',
    '/01/09506000134352/10/L1/22/V1',
    '/01/09506000134352/21/S1/22/V1',
  ])('refuses qualifiers out of order: %s', (path) => {
    expect(() => parseDigitalLink(path)).toThrow(gs1('dl.qualifier_order'));
  });

  it('refuses a repeated qualifier', () => {
    expect(() => parseDigitalLink('/01/09506000134352/10/A/10/B')).toThrow(gs1('dl.duplicate'));
    expect(() => parseDigitalLink('/01/09506000134352/10/A/21/S/21/T')).toThrow(gs1('dl.duplicate'));
  });

  it('refuses GTINs with a bad check digit, length or characters', () => {
    expect(() => parseDigitalLink('/01/09506000134353')).toThrow(gs1('gtin.check_digit'));
    expect(() => parseDigitalLink('/01/0950600013435')).toThrow(gs1('gtin.check_digit'));
    expect(() => parseDigitalLink('/01/95060001343')).toThrow(gs1('gtin.length'));
    expect(() => parseDigitalLink('/01/095060001343521')).toThrow(gs1('gtin.length'));
    expect(() => parseDigitalLink('/01/09506000134352x')).toThrow(gs1('gtin.format'));
  });

  it('refuses unknown AIs in the path', () => {
    expect(() => parseDigitalLink('/01/09506000134352/99999/A')).toThrow(gs1('ai.unknown'));
    expect(() => parseDigitalLink('/01/09506000134352/lot/A')).toThrow(gs1('ai.unknown'));
    expect(() => parseDigitalLink('/01/09506000134352/10/L1/extra/junk')).toThrow(gs1('ai.unknown'));
  });

  it('refuses known AIs that are not key qualifiers in the path', () => {
    expect(() => parseDigitalLink('/01/09506000134352/17/261231')).toThrow(gs1('dl.not_qualifier'));
  });

  it('refuses paths that do not start with AI (01)', () => {
    expect(() => parseDigitalLink('/00/106141411234567897')).toThrow(gs1('dl.primary_key'));
    expect(() => parseDigitalLink('/gtin/09506000134352')).toThrow(gs1('dl.primary_key'));
    expect(() => parseDigitalLink('/resolver/01/09506000134352')).toThrow(gs1('dl.primary_key'));
    expect(() => parseDigitalLink('https://example.com')).toThrow(gs1('dl.primary_key'));
    expect(() => parseDigitalLink('https://example.com?17=261231')).toThrow(gs1('dl.primary_key'));
  });

  it('refuses trailing garbage: a dangling AI, empty segments', () => {
    expect(() => parseDigitalLink('/01')).toThrow(gs1('dl.missing_value'));
    expect(() => parseDigitalLink('/01/09506000134352/10')).toThrow(gs1('dl.missing_value'));
    expect(() => parseDigitalLink('/01/09506000134352/10/L1/21')).toThrow(gs1('dl.missing_value'));
    expect(() => parseDigitalLink('/01/09506000134352/')).toThrow(gs1('dl.empty_segment'));
    expect(() => parseDigitalLink('/01/09506000134352//10/L1')).toThrow(gs1('dl.empty_segment'));
    expect(() => parseDigitalLink('/')).toThrow(gs1('dl.empty_segment'));
  });

  it('refuses lot/serial/CPV longer than 20 characters', () => {
    expect(parseDigitalLink(`/01/09506000134352/10/${'A'.repeat(20)}`).lot).toHaveLength(20);
    expect(() => parseDigitalLink(`/01/09506000134352/10/${'A'.repeat(21)}`)).toThrow(gs1('ai.length'));
    expect(() => parseDigitalLink(`/01/09506000134352/21/${'A'.repeat(21)}`)).toThrow(gs1('ai.length'));
    expect(() => parseDigitalLink(`/01/09506000134352/22/${'A'.repeat(21)}`)).toThrow(gs1('ai.length'));
    // length counts decoded characters: 10 × "%2F" is 10 characters
    expect(parseDigitalLink(`/01/09506000134352/10/${'%2F'.repeat(10)}`).lot).toBe('/'.repeat(10));
  });

  it.each(['A%20B', 'A~B', '%C3%A9', 'A%23B', 'A%40B', '%1D'])('refuses characters outside CSET 82: %s', (lot) => {
    expect(() => parseDigitalLink(`/01/09506000134352/10/${lot}`)).toThrow(gs1('ai.charset'));
  });

  it('percent-decodes before checking', () => {
    expect(parseDigitalLink('/01/09506000134352/10/A%2FB').lot).toBe('A/B');
    expect(parseDigitalLink('/01/09506000134352/21/%21%22%25%26').serial).toBe('!"%&');
    // kept verbatim: URL resolution would have eaten these dot segments
    expect(parseDigitalLink('/01/09506000134352/10/../21/.').lot).toBe('..');
  });

  it.each(['%ZZ', '%E0%A4%A', 'A%', '%C3'])('refuses malformed percent-encoding %s', (lot) => {
    expect(() => parseDigitalLink(`/01/09506000134352/10/${lot}`)).toThrow(gs1('dl.percent_encoding'));
  });

  it('reads query-string attributes and linkType', () => {
    const link = parseDigitalLink(
      '/01/09506000134352/10/L1?11=250101&15=260600&17=261231&linkType=https%3A%2F%2Fgs1.org%2Fvoc%2Fpip',
    );
    expect(link.attributes).toEqual({ '11': '250101', '15': '260600', '17': '261231' });
    expect(link.linkType).toBe('https://gs1.org/voc/pip');
    expect(parseDigitalLink('/01/09506000134352?linkType=gs1:certificationInfo').linkType).toBe('gs1:certificationInfo');
  });

  it('ignores non-GS1 query parameters and empty pairs', () => {
    expect(parseDigitalLink('/01/09506000134352?utm_source=x&&17=261231&').attributes).toEqual({ '17': '261231' });
  });

  it('refuses malformed query attributes', () => {
    const p = (q: string) => () => parseDigitalLink(`/01/09506000134352?${q}`);
    expect(p('17=261332')).toThrow(gs1('date.invalid'));
    expect(p('17=2612')).toThrow(gs1('ai.length'));
    expect(p('17=26123X')).toThrow(gs1('ai.charset'));
    expect(p('10=L1')).toThrow(gs1('dl.misplaced_ai'));
    expect(p('01=09506000134352')).toThrow(gs1('dl.misplaced_ai'));
    expect(p('7777=x')).toThrow(gs1('ai.unknown'));
    expect(p('17=261231&17=261231')).toThrow(gs1('dl.duplicate'));
    expect(p('17')).toThrow(gs1('dl.query'));
    expect(p('linkType=a&linkType=b')).toThrow(gs1('dl.duplicate'));
    expect(p('linkType=')).toThrow(gs1('dl.query'));
    expect(p('linkType=a%20b')).toThrow(gs1('dl.query'));
    expect(p('17=%ZZ')).toThrow(gs1('dl.percent_encoding'));
  });

  it.each([
    'ftp://example.com/01/09506000134352',
    'urn:epc:id:sgtin:9506000.013435.1',
    'https:///01/09506000134352',
    'https://exa mple.com/01/09506000134352',
    '01/09506000134352',
    '',
  ])('refuses %p as a URI', (input) => {
    expect(() => parseDigitalLink(input)).toThrow(gs1('dl.uri'));
  });

  it('refuses non-strings at run time', () => {
    expect(() => parseDigitalLink(undefined as unknown as string)).toThrow(Gs1Error);
  });
});

describe('formatDigitalLink', () => {
  it('formats GTIN, lot and serial', () => {
    expect(formatDigitalLink({ gtin: GTIN, lot: 'LOT1', serial: 'SER1' })).toBe('/01/09506000134352/10/LOT1/21/SER1');
  });

  it('pads the GTIN and orders qualifiers 22, 10, 21 whatever the input order', () => {
    expect(formatDigitalLink({ serial: 'S', lot: 'L', cpv: 'V', gtin: '96385074' })).toBe(
      '/01/00000096385074/22/V/10/L/21/S',
    );
    expect(formatDigitalLink({ gtin: '9506000134352' })).toBe('/01/09506000134352');
  });

  it('prefixes the base origin, with or without a trailing slash', () => {
    expect(formatDigitalLink({ gtin: GTIN, serial: 'S1' }, 'https://id.example.com')).toBe(
      'https://id.example.com/01/09506000134352/21/S1',
    );
    expect(formatDigitalLink({ gtin: GTIN }, 'https://id.example.com/')).toBe('https://id.example.com/01/09506000134352');
  });

  it('percent-encodes every CSET 82 character that is not URI-safe', () => {
    expect(formatDigitalLink({ gtin: GTIN, lot: `!"%&'()*+,/:;<=>?` })).toBe(
      '/01/09506000134352/10/%21%22%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3C%3D%3E%3F',
    );
    expect(formatDigitalLink({ gtin: GTIN, lot: 'a-b.c_D9' })).toBe('/01/09506000134352/10/a-b.c_D9');
  });

  it('round-trips every CSET 82 character through format and parse', () => {
    for (let i = 0; i < CSET82_CHARS.length; i += 20) {
      const chunk = CSET82_CHARS.slice(i, i + 20);
      const input = { gtin: GTIN, cpv: chunk, lot: [...chunk].reverse().join(''), serial: chunk.slice(0, 7) };
      expect(parseDigitalLink(formatDigitalLink(input, 'https://id.example.com'))).toEqual({ ...input, attributes: {} });
    }
  });

  it('writes attributes and linkType to the query string and reads them back', () => {
    const link = { gtin: GTIN, lot: 'L/1', attributes: { '17': '261231', '11': '250100' }, linkType: 'gs1:pip' };
    const uri = formatDigitalLink(link);
    expect(uri).toBe('/01/09506000134352/10/L%2F1?11=250100&17=261231&linkType=gs1:pip');
    expect(parseDigitalLink(uri)).toEqual(link);
  });

  it('refuses invalid input', () => {
    expect(() => formatDigitalLink({ gtin: '09506000134353' })).toThrow(gs1('gtin.check_digit'));
    expect(() => formatDigitalLink({ gtin: '123' })).toThrow(gs1('gtin.length'));
    expect(() => formatDigitalLink({ gtin: GTIN, lot: 'A'.repeat(21) })).toThrow(gs1('ai.length'));
    expect(() => formatDigitalLink({ gtin: GTIN, serial: '' })).toThrow(gs1('ai.length'));
    expect(() => formatDigitalLink({ gtin: GTIN, lot: 'a b' })).toThrow(gs1('ai.charset'));
    expect(() => formatDigitalLink({ gtin: GTIN, cpv: 'é' })).toThrow(gs1('ai.charset'));
    expect(() => formatDigitalLink({ gtin: GTIN, attributes: { '10': 'L' } })).toThrow(gs1('dl.misplaced_ai'));
    expect(() => formatDigitalLink({ gtin: GTIN, attributes: { '17': '261340' } })).toThrow(gs1('date.invalid'));
    expect(() => formatDigitalLink({ gtin: GTIN, attributes: { expiry: '261231' } })).toThrow(gs1('ai.unknown'));
    expect(() => formatDigitalLink({ gtin: GTIN, linkType: '' })).toThrow(gs1('dl.query'));
  });

  it.each(['https://id.example.com/resolver', 'ftp://id.example.com', 'id.example.com', 'https://x.com?a=b'])(
    'refuses base %p',
    (base) => {
      expect(() => formatDigitalLink({ gtin: GTIN }, base)).toThrow(gs1('dl.base'));
    },
  );
});
