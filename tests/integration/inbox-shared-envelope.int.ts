import { dropSchemas, testDatabaseUrl, uniquePrefix } from '@trace/testing';
import { inboundMessage, startTestService, startTransport, type TestService, type TransportFixture } from './harness';

/**
 * In embedded mode every consumer of a message is handed the same bytes: the inbox decodes them once and
 * shares the envelope, frozen, so that no consumer can change what the next one reads.
 */
describe('an envelope shared by the consumers of one message', () => {
  const prefix = uniquePrefix('shared');
  let fx: TransportFixture;
  let consumers: TestService[];

  beforeAll(async () => {
    fx = await startTransport('embedded', prefix);
    consumers = await Promise.all(['lineage_like', 'scan_like', 'meddler'].map((name) => startTestService(name, prefix, fx.transport)));
  });

  afterAll(async () => {
    for (const c of consumers ?? []) await c.ds.destroy();
    await fx?.stop();
    await dropSchemas(testDatabaseUrl(), prefix);
  });

  it('decodes a message once for all its consumers, and a handler that changes it fails instead', async () => {
    const seen: unknown[] = [];
    const [first, second, meddler] = consumers;
    first.inbox.on('batchRegistered', async (payload) => void seen.push(payload));
    second.inbox.on('batchRegistered', async (payload) => void seen.push(payload));
    meddler.inbox.on('batchRegistered', async (payload) => {
      (payload as { lot: string }).lot = 'changed';
    });
    const message = inboundMessage('batchRegistered', { gtin: '09506000134352', lot: 'L1', inputs: [{ batch: { batchId: 'b0' } }] });
    expect(await first.inbox.dispatch(message)).toBe('processed');
    expect(await second.inbox.dispatch(message)).toBe('processed');
    expect(await meddler.inbox.dispatch(message)).toBe('dead-lettered');

    expect(seen).toHaveLength(2);
    expect(seen[1]).toBe(seen[0]);
    const payload = seen[0] as { lot: string; inputs: { batch: { batchId: string } }[] };
    expect(payload.lot).toBe('L1');
    expect(Object.isFrozen(payload)).toBe(true);
    expect(Object.isFrozen(payload.inputs)).toBe(true);
    expect(Object.isFrozen(payload.inputs[0].batch)).toBe(true);
    const [dead] = (await meddler.ds.query('SELECT reason FROM dead_letters')) as { reason: string }[];
    expect(dead.reason).toMatch(/read only property 'lot'/);
  });
});
