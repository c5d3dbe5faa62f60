import { aBatch, aProduct } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg, type TestOrg } from '../support/world';

/** Errors a new user can act on: one message a field, the allowed values, the expected digit, the right status. */
describe('actionable errors (embedded app, real PostgreSQL)', () => {
  let t: EmbeddedTestApp;
  let A: TestOrg;
  beforeAll(async () => {
    t = await startEmbeddedApp();
    A = await anOrg(t, 'Errors Org');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a missing clientSecret is one message, the first rule the field fails', async () => {
    const r = await t.anonymous.post('/v1/auth/token', { clientId: 'someone' });
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([{ field: 'clientSecret', message: 'clientSecret must be a string' }]);
    expect(r.body.detail).toBe('clientSecret: clientSecret must be a string');
  });

  it('an unknown direction lists the allowed ones', async () => {
    const r = await A.api.get('/v1/trace/agri/5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d?direction=sideways');
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({
      type: 'https://problems.trace.dev/validation',
      detail: 'direction must be one of: upstream, downstream, both',
      errors: [{ field: 'direction', message: 'must be one of: upstream, downstream, both' }],
    });
  });

  it('a wrong GTIN check digit names the digit expected', async () => {
    const r = await A.api.post('/v1/agri/batches', { ...aBatch('CD-1', A.locations.farm), gtin: '09506000134353' });
    expect(r.status).toBe(400);
    expect(r.body.detail).toBe('GTIN 09506000134353 has a wrong check digit: the last digit should be 2, not 3');
  });

  it('a JSON body sent as text/plain (or as a form) is 415, not a validation error; an empty POST body is not', async () => {
    const body = JSON.stringify({ name: 'Plain Farm', kind: 'producer' });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const r = await fetch(`${t.url}/v1/auth/token`, { method: 'POST', headers: { 'content-type': type }, body });
      expect(r.status).toBe(415);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(await r.json()).toMatchObject({ type: 'https://problems.trace.dev/unsupported-media-type', status: 415, detail: expect.stringContaining(type) });
    }
    // No body at all (Content-Length: 0) still reaches validation.
    const empty = await fetch(`${t.url}/v1/auth/token`, { method: 'POST', headers: { 'content-length': '0' } });
    expect(empty.status).toBe(400);
  });

  it('answers in Chinese when Accept-Language prefers it: validation, not found, forbidden, a domain conflict', async () => {
    const zh = async (path: string, opts: { method?: string; body?: unknown; api?: typeof A.api } = {}) => {
      const r = await fetch(`${t.url}${path}`, {
        method: opts.method ?? 'GET',
        headers: {
          ...(opts.api ? await opts.api.headers() : {}),
          'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8',
          ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      });
      return { status: r.status, language: r.headers.get('content-language'), body: (await r.json()) as Record<string, unknown> };
    };
    const invalid = await zh('/v1/auth/token', { method: 'POST', body: { clientId: 'someone' } });
    expect(invalid).toMatchObject({
      status: 400,
      language: 'zh-CN',
      body: {
        type: 'https://problems.trace.dev/validation',
        title: '请求有误',
        detail: '请求不符合要求，请检查以下字段：clientSecret（各字段说明见 errors）',
        errors: [{ field: 'clientSecret', message: 'clientSecret must be a string' }],
      },
    });
    const missing = await zh('/v1/agri/batches/5b6e8c1e-3f0a-4c1b-9a8e-2d7f6a1b3c4d', { api: A.api });
    expect(missing).toMatchObject({ status: 404, body: { title: '未找到', detail: '未找到该批次' } });
    const forbidden = await zh('/v1/orgs', { method: 'POST', body: { name: 'X', kind: 'producer' }, api: A.api });
    expect(forbidden).toMatchObject({ status: 403, body: { type: 'https://problems.trace.dev/role', title: '无权操作', detail: '当前角色无权执行此操作' } });
    await aProduct(A.api);
    const lot = await A.api.post('/v1/agri/batches', aBatch('ZH-1', A.locations.farm));
    const twin = await zh('/v1/agri/batches', { method: 'POST', body: aBatch('ZH-1', A.locations.farm), api: A.api });
    expect([lot.status, twin.status, twin.body.type, twin.body.title, twin.body.detail]).toEqual([
      201,
      409,
      'https://problems.trace.dev/duplicate-lot',
      '冲突',
      '该 GTIN 下已有相同批号的批次',
    ]);
    const plain = await fetch(`${t.url}/v1/auth/token`, { method: 'POST', headers: { 'content-type': 'text/plain', 'accept-language': 'zh' }, body: '{}' });
    expect([plain.headers.get('content-language'), ((await plain.json()) as { title: string }).title]).toEqual(['zh-CN', '不支持的媒体类型']);
    // What is refused before Nest (the body parser, the input guard) answers in Chinese too.
    const raw = async (body: string) => {
      const r = await fetch(`${t.url}/v1/agri/batches`, {
        method: 'POST',
        headers: { ...(await A.api.headers()), 'content-type': 'application/json', 'accept-language': 'zh-CN,zh;q=0.9' },
        body,
      });
      return { status: r.status, language: r.headers.get('content-language'), body: (await r.json()) as Record<string, unknown> };
    };
    const batch = JSON.stringify(aBatch('ZH-2', A.locations.farm));
    expect(await raw('{not json')).toMatchObject({ status: 400, language: 'zh-CN', body: { type: 'https://problems.trace.dev/malformed-json', title: '请求有误', detail: '请求体不是合法的 JSON' } });
    expect(await raw(batch.replace('{', '{"__proto__":{"admin":true},'))).toMatchObject({
      status: 400,
      language: 'zh-CN',
      body: { type: 'https://problems.trace.dev/malformed-json', title: '请求有误', detail: '请求体不是合法的 JSON' },
    });
    expect(await raw(batch.replace('"ZH-2"', '"ZH\\u00002"'))).toMatchObject({
      status: 400,
      language: 'zh-CN',
      body: { type: 'https://problems.trace.dev/validation', title: '请求有误', detail: '请求不符合要求，请检查以下字段：lot（各字段说明见 errors）', errors: [{ field: 'lot', message: expect.stringMatching(/NUL/) }] },
    });
    // English by default and when English comes first.
    const english = await fetch(`${t.url}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept-language': 'en-US,zh;q=0.5' },
      body: '{}',
    });
    expect(((await english.json()) as { title: string }).title).toBe('Bad Request');
  });
});
