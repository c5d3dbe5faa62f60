import { localizeProblem, preferredLanguage } from './messages';
import { problemType, type ProblemDetails } from './problem';

describe('preferredLanguage', () => {
  it.each([
    [undefined, 'en'],
    ['', 'en'],
    ['zh', 'zh'],
    ['zh-CN,zh;q=0.9,en;q=0.8', 'zh'],
    ['en-US,en;q=0.9,zh-CN;q=0.8', 'en'],
    ['en;q=0.5, zh-Hans;q=0.9', 'zh'],
    ['zh;q=0, en', 'en'],
    ['*', 'en'],
    ['zhx', 'en'],
  ] as const)('%p → %s', (header, lang) => {
    expect(preferredLanguage(header)).toBe(lang);
  });
});

describe('localizeProblem', () => {
  const problem = (slug: string, status: number, extra: Partial<ProblemDetails> = {}): ProblemDetails => ({
    type: problemType(slug),
    title: 'English title',
    status,
    detail: 'English detail',
    ...extra,
  });

  it('leaves English as it is', () => {
    const p = problem('validation', 400);
    expect(localizeProblem(p, 'en')).toBe(p);
  });

  it('gives a validation problem a Chinese title and detail naming the fields, keeping type, status and errors', () => {
    const errors = [{ field: 'clientSecret', message: 'clientSecret must be a string' }];
    expect(localizeProblem(problem('validation', 400, { errors }), 'zh')).toEqual({
      type: problemType('validation'),
      title: '请求有误',
      status: 400,
      detail: '请求不符合要求，请检查以下字段：clientSecret（各字段说明见 errors）',
      errors,
    });
  });

  it('names what a 404 did not find, and keeps the extensions a conflict carries', () => {
    expect(localizeProblem(problem('case', 404), 'zh')).toMatchObject({ title: '未找到', detail: '未找到该案件' });
    expect(localizeProblem(problem('already-recalled', 409, { recallId: 'r-1' }), 'zh')).toMatchObject({
      title: '冲突',
      detail: '该批次已在进行中的召回 r-1 范围内',
      recallId: 'r-1',
    });
    expect(localizeProblem(problem('role', 403), 'zh')).toMatchObject({ title: '无权操作', detail: '当前角色无权执行此操作' });
  });

  it('keeps the English detail of a type the catalogue does not know, under a Chinese title', () => {
    expect(localizeProblem(problem('something-new', 422), 'zh')).toMatchObject({ title: '无法处理的请求', detail: 'English detail' });
  });
});
