import { isoToMicros, mergeAuditPages, microsToIso, type AuditEntry } from './audit';

const entry = (id: string, at: string): AuditEntry => ({
  id, at, clientId: 'c', orgId: 'o', role: 'operator', method: 'POST', route: '/v1/x', resourceId: null, correlationId: null, status: 201,
});
const cursorKey = (cursor: string | null) => (cursor ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : null);

describe('audit times', () => {
  it('keeps microseconds both ways (the log is ordered to the microsecond)', () => {
    expect(microsToIso('1796534101422123')).toBe('2026-12-06T05:15:01.422123Z');
    expect(isoToMicros('2026-12-06T05:15:01.422123Z')).toBe('1796534101422123');
    expect(isoToMicros('2026-12-06T05:15:01.4Z')).toBe('1796534101400000');
    expect(isoToMicros('2026-12-06T05:15:01Z')).toBe('1796534101000000');
    expect(() => isoToMicros('yesterday')).toThrow();
  });
});

describe('mergeAuditPages (the gateway, distributed)', () => {
  const a = entry('00000000-0000-4000-8000-00000000000a', '2026-12-06T05:15:01.000001Z');
  const b = entry('00000000-0000-4000-8000-00000000000b', '2026-12-06T05:15:01.000002Z');
  const c = entry('00000000-0000-4000-8000-00000000000c', '2026-12-06T05:15:01.000002Z');
  const d = entry('00000000-0000-4000-8000-00000000000d', '2026-12-06T05:15:03Z');

  it('orders every log\'s entries by (at, id) and keeps the first `limit`, with a cursor at the last one kept', () => {
    const page = mergeAuditPages([{ items: [c, d], nextCursor: null }, { items: [a, b], nextCursor: null }], 3);
    expect(page.items.map((e) => e.id)).toEqual([a.id, b.id, c.id]);
    expect(cursorKey(page.nextCursor)).toEqual(['1796534101000002', c.id]);
  });

  it('has a next page when any log has one, and none when all are done', () => {
    expect(mergeAuditPages([{ items: [a], nextCursor: 'x' }, { items: [], nextCursor: null }], 5).nextCursor).not.toBeNull();
    expect(mergeAuditPages([{ items: [a, b], nextCursor: null }, { items: [d], nextCursor: null }], 3)).toEqual({ items: [a, b, d], nextCursor: null });
    expect(mergeAuditPages([{ items: [], nextCursor: null }], 3)).toEqual({ items: [], nextCursor: null });
  });
});
