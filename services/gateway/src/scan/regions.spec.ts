import { regionName } from './regions';

describe('regionName', () => {
  it.each([
    ['CN-37', 'zh', '山东省'],
    ['CN-37', 'en', 'Shandong'],
    ['cn-sd', 'zh', '山东省'],
    ['370102', 'zh', '山东省'],
    ['CN-110105', 'en', 'Beijing'],
    ['CN-82', 'zh', '澳门特别行政区'],
    ['CN-65', 'en', 'Xinjiang'],
    ['CN', 'zh', '中国'],
    ['US', 'zh', '美国'],
    ['NZ', 'en', 'New Zealand'],
    ['US-CA', 'zh', '美国 CA'],
    [' JP ', 'zh', '日本'],
  ] as const)('%p in %s is %p', (region, lang, words) => {
    expect(regionName(region, lang)).toBe(words);
  });

  it('shows what it does not know as written: free text, an unassigned code, an unknown country', () => {
    expect(regionName('寿光市', 'zh')).toBe('寿光市');
    expect(regionName('CN-99', 'zh')).toBe('CN-99');
    expect(regionName('XX-12', 'en')).toBe('XX-12');
  });
});
