import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Request, Response } from 'express';
import {
  badRequest,
  listPage,
  newSecret,
  notFound,
  resolveTarget,
  sqlFromMicros,
  sqlMicros,
  TargetRefused,
  unprocessable,
  WEBHOOK_OPTIONS,
  type ListQuery,
  type Principal,
  type WebhookOptions,
} from '@trace/platform';
import type { CreateWebhookDto } from './dto';

/** More than this many subscriptions per organisation is a mistake (a loop creating them), not a need. */
export const MAX_WEBHOOKS_PER_ORG = 25;

interface SubscriptionRow {
  id: string;
  url: string;
  events: string[];
  created_at: Date;
  sort_at: string;
}

interface DeliveryRow {
  id: string;
  type: string;
  occurred_at: Date;
  data: unknown;
  status: string;
  attempts: number;
  next_attempt_at: Date;
  last_status: number | null;
  last_error: string | null;
  log: { at: string; statusCode: number | null; error: string | null; durationMs: number }[];
  created_at: Date;
  delivered_at: Date | null;
  sort_at: string;
}

/**
 * An organisation's webhook subscriptions and their delivery log. Each
 * operator or regulator manages its own organisation's only: another
 * organisation's subscription is a 404, like one that does not exist.
 */
@Injectable()
export class WebhookService {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(WEBHOOK_OPTIONS) private readonly options: WebhookOptions,
  ) {}

  async create(dto: CreateWebhookDto, principal: Principal) {
    const url = new URL(dto.url);
    if (url.username || url.password) {
      throw badRequest('webhook-url-refused', 'A webhook URL may not carry a user name or password; authenticate deliveries by their signature', [
        { field: 'url', message: 'has credentials' },
      ]);
    }
    try {
      await resolveTarget(url, this.options.allowPrivate);
    } catch (err) {
      if (!(err instanceof TargetRefused)) throw err;
      throw badRequest('webhook-url-refused', `The webhook URL is refused: ${err.message}`, [{ field: 'url', message: err.message }]);
    }
    const id = randomUUID();
    const secret = newSecret();
    const createdAt = new Date();
    const events = [...new Set(dto.events)];
    await this.ds.transaction(async (m) => {
      // One organisation's subscriptions are created one at a time, so the cap holds under concurrent requests.
      await m.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`webhooks:${principal.orgId}`]);
      const [{ n }] = (await m.query('SELECT count(*)::int AS n FROM webhook_subscriptions WHERE org_id = $1 AND deleted_at IS NULL', [principal.orgId])) as { n: number }[];
      if (n >= MAX_WEBHOOKS_PER_ORG) {
        throw unprocessable('too-many-webhooks', `An organisation may have ${MAX_WEBHOOKS_PER_ORG} webhook subscriptions; delete one first`, { limit: MAX_WEBHOOKS_PER_ORG });
      }
      await m.query(
        `INSERT INTO webhook_subscriptions (id, org_id, org_role, url, events, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [id, principal.orgId, principal.role === 'regulator' ? 'regulator' : 'operator', url.toString(), events, secret, createdAt],
      );
      // In the types' order: two subscriptions created at once take the counters' row locks the same way round.
      await m.query(
        `INSERT INTO webhook_event_types (type, subscriptions) SELECT t, 1 FROM unnest($1::text[]) AS t ORDER BY t
         ON CONFLICT (type) DO UPDATE SET subscriptions = webhook_event_types.subscriptions + 1`,
        [events],
      );
    });
    return { id, url: url.toString(), events, secret, createdAt: createdAt.toISOString() };
  }

  async list(q: ListQuery<never>, principal: Principal, http?: { req: Request; res: Response }) {
    const params: unknown[] = [principal.orgId, q.limit + 1];
    let after = '';
    if (q.after) {
      params.push(q.after[0], q.after[1]);
      after = `AND (created_at, id) < (${sqlFromMicros('$3')}, $4::uuid)`;
    }
    const rows = (await this.ds.query(
      `SELECT id, url, events, created_at, ${sqlMicros('created_at')} AS sort_at FROM webhook_subscriptions
        WHERE org_id = $1 AND deleted_at IS NULL ${after} ORDER BY created_at DESC, id DESC LIMIT $2`,
      params,
    )) as SubscriptionRow[];
    return listPage(rows, q, (r) => [r.sort_at, r.id], http, (r) => ({ id: r.id, url: r.url, events: r.events, createdAt: r.created_at.toISOString() }));
  }

  /** Stops deliveries at once: what was still waiting for a retry is cancelled (the log keeps it). */
  async remove(id: string, principal: Principal): Promise<void> {
    await this.ds.transaction(async (m) => {
      // TypeORM answers an UPDATE with [rows, affected].
      const [rows, affected] = (await m.query(`UPDATE webhook_subscriptions SET deleted_at = now() WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL RETURNING events`, [
        id,
        principal.orgId,
      ])) as [{ events: string[] }[], number];
      if (affected !== 1) throw this.unknown(id);
      // Locked in the types' order first, as a creation takes them: an UPDATE locks in whatever order its plan reads.
      await m.query('SELECT 1 FROM webhook_event_types WHERE type = ANY($1::text[]) ORDER BY type FOR UPDATE', [rows[0].events]);
      await m.query('UPDATE webhook_event_types SET subscriptions = subscriptions - 1 WHERE type = ANY($1::text[])', [rows[0].events]);
      await m.query(`UPDATE webhook_deliveries SET status = 'cancelled' WHERE subscription_id = $1 AND status = 'pending'`, [id]);
    });
  }

  async deliveries(id: string, q: ListQuery<'status'>, principal: Principal, http?: { req: Request; res: Response }) {
    const [owned] = await this.ds.query('SELECT 1 FROM webhook_subscriptions WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL', [id, principal.orgId]);
    if (!owned) throw this.unknown(id);
    const params: unknown[] = [id, q.limit + 1];
    const where: string[] = [];
    if (q.filters.status) {
      params.push(q.filters.status);
      where.push(`status = $${params.length}`);
    }
    if (q.after) {
      params.push(q.after[0], q.after[1]);
      where.push(`(created_at, id) < (${sqlFromMicros(`$${params.length - 1}`)}, $${params.length}::uuid)`);
    }
    const rows = (await this.ds.query(
      `SELECT *, ${sqlMicros('created_at')} AS sort_at FROM webhook_deliveries
        WHERE subscription_id = $1 ${where.map((w) => `AND ${w}`).join(' ')} ORDER BY created_at DESC, id DESC LIMIT $2`,
      params,
    )) as DeliveryRow[];
    return listPage(rows, q, (r) => [r.sort_at, r.id], http, deliveryView);
  }

  private unknown(id: string) {
    return notFound('webhook', `No webhook subscription ${id}`);
  }
}

function deliveryView(r: DeliveryRow) {
  return {
    id: r.id,
    type: r.type,
    occurredAt: r.occurred_at.toISOString(),
    status: r.status,
    attempts: r.log,
    attemptCount: r.attempts,
    lastStatusCode: r.last_status,
    lastError: r.last_error,
    nextAttemptAt: r.status === 'pending' ? r.next_attempt_at.toISOString() : null,
    deliveredAt: r.delivered_at ? r.delivered_at.toISOString() : null,
    createdAt: r.created_at.toISOString(),
    data: r.data,
  };
}
