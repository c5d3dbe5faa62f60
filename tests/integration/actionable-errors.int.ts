import { aBatch } from '../support/api';
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
});
