import { AI_DEFINITIONS, getAiDefinition, hasPredefinedLength, isCset82, validateAiValue } from './ai';

const gs1 = (code: string) => expect.objectContaining({ name: 'Gs1Error', code });

/** All 82 characters of GS1 AI encodable character set 82, in code-point order. */
const CSET82_CHARS = `!"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz`;

describe('character set 82', () => {
  it('has exactly 82 characters, all accepted', () => {
    expect(new Set(CSET82_CHARS).size).toBe(82);
    expect(isCset82(CSET82_CHARS)).toBe(true);
  });

  it('refuses every other printable ASCII character and non-ASCII', () => {
    for (let c = 0x20; c < 0x7f; c++) {
      const ch = String.fromCharCode(c);
      expect(isCset82(ch)).toBe(CSET82_CHARS.includes(ch));
    }
    expect(isCset82('é')).toBe(false);
    expect(isCset82('批号')).toBe(false);
    expect(isCset82('\u001d')).toBe(false);
  });
});

describe('validateAiValue', () => {
  it('accepts valid values', () => {
    expect(() => validateAiValue('01', '09506000134352')).not.toThrow();
    expect(() => validateAiValue('00', '106141411234567897')).not.toThrow();
    expect(() => validateAiValue('414', '5412345000013')).not.toThrow();
    expect(() => validateAiValue('10', 'ABC-123/x')).not.toThrow();
    expect(() => validateAiValue('21', 'A'.repeat(20))).not.toThrow();
    expect(() => validateAiValue('17', '261231')).not.toThrow();
    expect(() => validateAiValue('30', '12345678')).not.toThrow();
    expect(() => validateAiValue('3103', '001250')).not.toThrow();
    expect(() => validateAiValue('422', '156')).not.toThrow();
  });

  it('accepts every CSET 82 character in AI (10)', () => {
    for (let i = 0; i < CSET82_CHARS.length; i += 20) {
      expect(() => validateAiValue('10', CSET82_CHARS.slice(i, i + 20))).not.toThrow();
    }
  });

  it('refuses unknown AIs', () => {
    expect(() => validateAiValue('23', 'x')).toThrow(gs1('ai.unknown'));
    expect(() => validateAiValue('99999', 'x')).toThrow(gs1('ai.unknown'));
    expect(() => validateAiValue('', 'x')).toThrow(gs1('ai.unknown'));
  });

  it('refuses wrong lengths', () => {
    expect(() => validateAiValue('01', '9506000134352')).toThrow(gs1('ai.length'));
    expect(() => validateAiValue('10', 'A'.repeat(21))).toThrow(gs1('ai.length'));
    expect(() => validateAiValue('10', '')).toThrow(gs1('ai.length'));
    expect(() => validateAiValue('30', '123456789')).toThrow(gs1('ai.length'));
    expect(() => validateAiValue('422', '15')).toThrow(gs1('ai.length'));
  });

  it('refuses characters outside the AI charset', () => {
    expect(() => validateAiValue('01', '0950600013435x')).toThrow(gs1('ai.charset'));
    expect(() => validateAiValue('10', 'A B')).toThrow(gs1('ai.charset'));
    expect(() => validateAiValue('10', 'A#B')).toThrow(gs1('ai.charset'));
    expect(() => validateAiValue('21', 'é')).toThrow(gs1('ai.charset'));
  });

  it('refuses bad check digits', () => {
    expect(() => validateAiValue('01', '09506000134353')).toThrow(gs1('ai.check_digit'));
    expect(() => validateAiValue('414', '5412345000014')).toThrow(gs1('ai.check_digit'));
  });

  it('refuses impossible dates', () => {
    expect(() => validateAiValue('17', '261332')).toThrow(gs1('date.invalid'));
  });

  it('names the AI in the error', () => {
    expect(() => validateAiValue('10', 'A'.repeat(21))).toThrow(expect.objectContaining({ ai: '10' }));
  });
});

describe('AI table', () => {
  it('marks Digital Link roles', () => {
    expect(getAiDefinition('01')?.role).toBe('key');
    expect(getAiDefinition('10')?.role).toBe('qualifier');
    expect(getAiDefinition('17')?.role).toBe('attribute');
  });

  it('keeps AIs prefix-free, so that unbracketed strings parse unambiguously', () => {
    const ais = [...AI_DEFINITIONS.keys()];
    for (const a of ais) for (const b of ais) if (a !== b) expect(b.startsWith(a)).toBe(false);
  });

  it('knows which AIs have a predefined length', () => {
    expect(hasPredefinedLength('01')).toBe(true);
    expect(hasPredefinedLength('17')).toBe(true);
    expect(hasPredefinedLength('3103')).toBe(true);
    expect(hasPredefinedLength('414')).toBe(true);
    expect(hasPredefinedLength('10')).toBe(false);
    expect(hasPredefinedLength('422')).toBe(false);
  });

  it('has fixed lengths for every predefined-length AI', () => {
    for (const d of AI_DEFINITIONS.values()) {
      if (hasPredefinedLength(d.ai)) expect(d.minLength).toBe(d.maxLength);
    }
  });
});
