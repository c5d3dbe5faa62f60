import { isGeneratedUuid, isUuid } from './uuid';

describe('isUuid / isGeneratedUuid', () => {
  it('takes the canonical form in either case, and nothing around it', () => {
    expect(isUuid('3f2504e0-4f89-41d3-9a0c-0305e82c3301')).toBe(true);
    expect(isUuid('3F2504E0-4F89-41D3-9A0C-0305E82C3301')).toBe(true);
    expect(isUuid('00000000-0000-0000-0000-000000000000')).toBe(true);
    for (const bad of ['3f2504e0-4f89-41d3-9a0c-0305e82c330', '{3f2504e0-4f89-41d3-9a0c-0305e82c3301}', '3f2504e04f8941d39a0c0305e82c3301', ' 3f2504e0-4f89-41d3-9a0c-0305e82c3301', 'g f', '', undefined, 42]) {
      expect(isUuid(bad)).toBe(false);
    }
  });

  it('wants a version 1–8 and the RFC variant for a generated id', () => {
    expect(isGeneratedUuid('3f2504e0-4f89-41d3-9a0c-0305e82c3301')).toBe(true);
    expect(isGeneratedUuid('0190a3c4-5b6d-7e8f-8a9b-0c1d2e3f4a5b')).toBe(true);
    expect(isGeneratedUuid('00000000-0000-0000-0000-000000000000')).toBe(false);
    expect(isGeneratedUuid('3f2504e0-4f89-91d3-9a0c-0305e82c3301')).toBe(false);
    expect(isGeneratedUuid('3f2504e0-4f89-41d3-ca0c-0305e82c3301')).toBe(false);
  });
});
