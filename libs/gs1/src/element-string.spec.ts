import { formatGs1ElementString, GS, parseGs1ElementString } from './element-string';

const gs1 = (code: string) => expect.objectContaining({ name: 'Gs1Error', code });
const DRUG = { '01': '09506000134352', '17': '261231', '10': 'LOT1', '21': 'SER1' };
const HRI = '(01)09506000134352(17)261231(10)LOT1(21)SER1';
const RAW = `010950600013435217261231` + `10LOT1${GS}21SER1`;

describe('parseGs1ElementString', () => {
  it('parses the bracketed human-readable form', () => {
    expect(parseGs1ElementString(HRI)).toEqual(DRUG);
  });

  it('parses scanner data: AIs run together, GS after variable-length fields', () => {
    expect(parseGs1ElementString(RAW)).toEqual(DRUG);
    expect(parseGs1ElementString(`]d2${RAW}`)).toEqual(DRUG);
    expect(parseGs1ElementString(`${GS}${RAW}`)).toEqual(DRUG);
    expect(parseGs1ElementString(`]d2${GS}${RAW}`)).toEqual(DRUG);
  });

  it('tolerates a GS after a predefined-length field and any element order', () => {
    expect(parseGs1ElementString(`10LOT1${GS}0109506000134352${GS}17261231`)).toEqual({
      '10': 'LOT1',
      '01': '09506000134352',
      '17': '261231',
    });
  });

  it('needs a GS after fixed-length AIs outside the predefined table, e.g. (422)', () => {
    expect(parseGs1ElementString(`0109506000134352422156${GS}10L`)).toEqual({
      '01': '09506000134352',
      '422': '156',
      '10': 'L',
    });
    // without it, the rest of the data is read as part of (422)
    expect(() => parseGs1ElementString('010950600013435242215610L')).toThrow(gs1('ai.charset'));
    expect(() => parseGs1ElementString('01095060001343524221561')).toThrow(gs1('ai.length'));
  });

  it('reads "\\(" as a literal "(" in bracketed data', () => {
    expect(parseGs1ElementString('(10)A\\(1)(21)S)')).toEqual({ '10': 'A(1)', '21': 'S)' });
  });

  it.each([
    ['', 'es.empty'],
    [']d2', 'es.empty'],
    [`]d1${RAW}`, 'es.symbology'],
    ['(01', 'es.format'],
    ['(1)x', 'es.format'],
    ['(99999)x', 'es.format'],
    ['(10)A\\B', 'es.format'],
    [`10LOT1${GS}`, 'es.format'],
    ['(23)x', 'ai.unknown'],
    ['garbage', 'ai.unknown'],
    [`10L${GS}${GS}21S`, 'ai.unknown'],
    ['(01)09506000134353', 'ai.check_digit'],
    ['(01)0950600013435', 'ai.length'],
    ['01095060001343', 'ai.length'],
    ['(01)(10)X', 'ai.length'],
    [`(10)${'A'.repeat(21)}`, 'ai.length'],
    ['(10)A B', 'ai.charset'],
    ['(17)261332', 'date.invalid'],
    ['(01)09506000134352(01)09506000134352', 'es.duplicate'],
    [`10A${GS}10B`, 'es.duplicate'],
  ])('refuses %p with %s', (input, code) => {
    expect(() => parseGs1ElementString(input)).toThrow(gs1(code));
  });
});

describe('formatGs1ElementString', () => {
  it('writes the bracketed form, key first, then fixed-length, then variable-length AIs', () => {
    expect(formatGs1ElementString(DRUG)).toBe(HRI);
    expect(formatGs1ElementString({ '21': 'SER1', '10': 'LOT1', '17': '261231', '01': '09506000134352' })).toBe(
      HRI,
    );
  });

  it('writes scanner data with GS only between variable-length fields', () => {
    expect(formatGs1ElementString(DRUG, { form: 'raw' })).toBe(RAW);
    expect(formatGs1ElementString({ '10': 'L' }, { form: 'raw' })).toBe('10L');
  });

  it('round-trips both forms, including a literal "("', () => {
    const ais = { ...DRUG, '10': 'L(1)', '240': 'X(Y' };
    expect(formatGs1ElementString(ais)).toBe('(01)09506000134352(17)261231(10)L\\(1)(21)SER1(240)X\\(Y');
    expect(parseGs1ElementString(formatGs1ElementString(ais))).toEqual(ais);
    expect(parseGs1ElementString(formatGs1ElementString(ais, { form: 'raw' }))).toEqual(ais);
  });

  it('refuses invalid or empty input', () => {
    expect(() => formatGs1ElementString({})).toThrow(gs1('es.empty'));
    expect(() => formatGs1ElementString({ '01': 'bad' })).toThrow(gs1('ai.charset'));
    expect(() => formatGs1ElementString({ '01': '09506000134353' })).toThrow(gs1('ai.check_digit'));
    expect(() => formatGs1ElementString({ '23': 'x' })).toThrow(gs1('ai.unknown'));
  });
});
