import {
  type CallHandler,
  Controller,
  type DynamicModule,
  type ExecutionContext,
  Get,
  Global,
  Inject,
  Injectable,
  type MiddlewareConsumer,
  Module,
  type NestInterceptor,
  type NestMiddleware,
  type NestModule,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { ApiBearerAuth, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { tap, type Observable } from 'rxjs';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { Roles, type Principal } from './auth';
import { PLATFORM_CONFIG, type PlatformConfig } from './config';
import { createServiceDataSource, initializeServiceDatabase } from './database';
import { hostStoreLifecycle } from './host-store';
import { ApiList, encodeCursor, listPage, parseListQuery, sqlFromMicros, sqlMicros, type ListPage } from './list-query';
import { LOGGER, type Logger } from './logging';
import { badRequest } from './problem';

/** One write as the audit log keeps it (API: GET /v1/audit). */
export interface AuditEntry {
  id: string;
  /** When the answer went out (RFC 3339, UTC, to the microsecond: the order of the log). */
  at: string;
  clientId: string | null;
  orgId: string | null;
  role: string | null;
  method: string;
  /** The route as declared (`/v1/:domain/batches/:id/events`), or the path when no route matched. */
  route: string;
  /** The resource written: the route's id parameter, else the id the answer named. */
  resourceId: string | null;
  correlationId: string | null;
  /** The HTTP status of the answer: refusals are kept as well as successes. */
  status: number;
}

/** OpenAPI of an entry (GET /v1/audit items). */
export class AuditEntryDoc implements AuditEntry {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'When the answer went out: RFC 3339 in UTC with microseconds (the order of the log)', example: '2026-12-06T05:15:01.422123Z' })
  at!: string;
  @ApiProperty({ nullable: true, type: String, description: 'The client of the token; null without one (a 401, the token endpoint)' }) clientId!: string | null;
  @ApiProperty({ nullable: true, type: String }) orgId!: string | null;
  @ApiProperty({ nullable: true, type: String, enum: ['admin', 'operator', 'inspector', 'regulator'] }) role!: string | null;
  @ApiProperty({ enum: ['POST', 'PUT', 'PATCH', 'DELETE'] }) method!: string;
  @ApiProperty({ description: 'The route as declared, e.g. /v1/agri/batches/:id/events (the path when none matched)' }) route!: string;
  @ApiProperty({ nullable: true, type: String, description: "The route's id, else the id the answer named (a created resource)" }) resourceId!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'X-Correlation-Id of the request' }) correlationId!: string | null;
  @ApiProperty({ description: 'HTTP status of the answer (refusals are entries too)', example: 201 }) status!: number;
}

interface AuditRow {
  id: string;
  at: Date;
  at_micros: string;
  client_id: string | null;
  org_id: string | null;
  role: string | null;
  method: string;
  route: string;
  resource_id: string | null;
  correlation_id: string | null;
  status: number;
}

/** Microseconds since the epoch as RFC 3339 with six fractional digits. */
export function microsToIso(micros: string): string {
  const n = BigInt(micros);
  const ms = n / 1000n;
  const frac = ((n % 1_000_000n) + 1_000_000n) % 1_000_000n;
  return `${new Date(Number(ms)).toISOString().slice(0, 19)}.${frac.toString().padStart(6, '0')}Z`;
}

/** Back from microsToIso (or any RFC 3339 UTC time with up to six fractional digits) to the cursor's micros. */
export function isoToMicros(at: string): string {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/.exec(at);
  if (!m) throw new Error(`not an audit time: ${at}`);
  const seconds = BigInt(Date.parse(`${m[1]}Z`)) / 1000n;
  return (seconds * 1_000_000n + BigInt((m[2] ?? '').padEnd(6, '0'))).toString();
}

const view = (r: AuditRow): AuditEntry => ({
  id: r.id,
  at: microsToIso(r.at_micros),
  clientId: r.client_id,
  orgId: r.org_id,
  role: r.role,
  method: r.method,
  route: r.route,
  resourceId: r.resource_id,
  correlationId: r.correlation_id,
  status: r.status,
});

/** An RFC 3339 time with an offset (or Z), or a date meaning its start in UTC. */
function timeParam(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const ok = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/i.test(value) && !Number.isNaN(Date.parse(value));
  if (!ok) throw badRequest('invalid-parameter', `${name} must be an RFC 3339 time with an offset, or a date`, [{ field: name, message: 'not an RFC 3339 time' }]);
  return new Date(value);
}

/**
 * The one writer (and reader) of `audit_log`: it only ever INSERTs. The
 * table's trigger refuses UPDATE, DELETE and TRUNCATE, so not even a bug
 * here, or someone with this service's database login, rewrites the record
 * short of dropping the trigger.
 */
export class AuditStore {
  /** Entries waiting for the next INSERT, each with the promise of its caller. */
  private queue: { entry: Omit<AuditEntry, 'id' | 'at'>; done: (err?: unknown) => void }[] = [];
  /** The flush under way, if any: entries recorded meanwhile go into the next one. */
  private flushing?: Promise<void>;

  constructor(private readonly dataSource: DataSource) {}

  async start(logger?: Logger): Promise<void> {
    await initializeServiceDatabase(this.dataSource, logger);
  }

  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  async stop(): Promise<void> {
    // Entries of answers already sent are written before the pool closes.
    await this.flushing;
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }

  /**
   * Resolves once the entry is in the table. Entries recorded in the same
   * turn of the event loop, or while an INSERT is under way, are written
   * together by the next one (at most AuditStore.FLUSH_ROWS a statement): a
   * write costs the log a share of a statement instead of a round trip of its
   * own, and each entry is still written before its caller hears back.
   */
  record(e: Omit<AuditEntry, 'id' | 'at'>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ entry: e, done: (err) => (err === undefined ? resolve() : reject(err)) });
      this.flushing ??= this.flush();
    });
  }

  static readonly FLUSH_ROWS = 500;

  private async flush(): Promise<void> {
    // Let the answers finishing in this turn join the first INSERT.
    await new Promise((r) => setImmediate(r));
    try {
      while (this.queue.length > 0) {
        const run = this.queue.splice(0, AuditStore.FLUSH_ROWS);
        try {
          await this.insert(run.map((q) => q.entry));
          for (const q of run) q.done();
        } catch (err) {
          for (const q of run) q.done(err ?? new Error('audit INSERT failed'));
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** One INSERT for a run of entries, in the order recorded (`at` is each row's clock_timestamp(): the order of the log). */
  private async insert(entries: Omit<AuditEntry, 'id' | 'at'>[]): Promise<void> {
    if (entries.length === 1) {
      const [e] = entries;
      await this.dataSource.query(
        `INSERT INTO audit_log (id, client_id, org_id, role, method, route, resource_id, correlation_id, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [randomUUID(), e.clientId, e.orgId, e.role, e.method, e.route, e.resourceId, e.correlationId, e.status],
      );
      return;
    }
    // One JSON document rather than an array parameter per column (the driver escapes arrays element by element).
    await this.dataSource.query(
      `INSERT INTO audit_log (id, client_id, org_id, role, method, route, resource_id, correlation_id, status)
       SELECT x.id, x.client_id, x.org_id, x.role, x.method, x.route, x.resource_id, x.correlation_id, x.status
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(doc, n),
              jsonb_to_record(e.doc) AS x(id uuid, client_id text, org_id text, role text, method text, route text,
                                          resource_id text, correlation_id text, status int)
        ORDER BY e.n`,
      [
        JSON.stringify(
          entries.map((e) => ({
            id: randomUUID(),
            client_id: e.clientId,
            org_id: e.orgId,
            role: e.role,
            method: e.method,
            route: e.route,
            resource_id: e.resourceId,
            correlation_id: e.correlationId,
            status: e.status,
          })),
        ),
      ],
    );
  }

  /** Oldest first, by (time, id): a page boundary never skips or repeats an entry written meanwhile. */
  async list(q: { orgId?: string; from?: Date; to?: Date; limit: number; after?: string[] }): Promise<AuditRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (q.orgId !== undefined) where.push(`org_id = ${p(q.orgId)}`);
    if (q.from) where.push(`at >= ${p(q.from.toISOString())}`);
    if (q.to) where.push(`at <= ${p(q.to.toISOString())}`);
    if (q.after) where.push(`(at, id) > (${sqlFromMicros(p(q.after[0]))}, ${p(q.after[1])}::uuid)`);
    return (await this.dataSource.query(
      `SELECT *, ${sqlMicros('at')} AS at_micros FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY at, id LIMIT ${p(q.limit + 1)}`,
      params,
    )) as AuditRow[];
  }
}

export const AUDIT_FILTERS = ['orgId', 'from', 'to'] as const;

/** The page of a parsed /v1/audit query (the controller here; the gateway merges several when distributed). */
export function parseAuditQuery(query: Record<string, unknown>) {
  const list = parseListQuery(query, AUDIT_FILTERS, { cursor: ['micros', 'uuid'] });
  return { list, from: timeParam('from', list.filters.from), to: timeParam('to', list.filters.to) };
}

export async function auditPage(store: AuditStore, query: Record<string, unknown>, http?: { req: Request; res: Response }): Promise<ListPage<AuditEntry>> {
  const { list, from, to } = parseAuditQuery(query);
  const rows = await store.list({ orgId: list.filters.orgId, from, to, limit: list.limit, after: list.after });
  return listPage(rows, list, (r) => [r.at_micros, r.id], http, view);
}

/**
 * Several logs' pages for the same query as one page (the gateway, distributed): every log was asked for
 * `limit` entries after the same cursor, so the first `limit` of all of them in (at, id) order are the
 * page, and there is a next one when any log had more or more were left over. The cursor is the last
 * entry's (at, id), which every log understands.
 */
export function mergeAuditPages(pages: readonly ListPage<AuditEntry>[], limit: number): ListPage<AuditEntry> {
  const keyed = pages.flatMap((p) => p.items.map((e) => ({ e, micros: BigInt(isoToMicros(e.at)) })));
  keyed.sort((a, b) => (a.micros !== b.micros ? (a.micros < b.micros ? -1 : 1) : a.e.id < b.e.id ? -1 : a.e.id > b.e.id ? 1 : 0));
  const items = keyed.slice(0, limit).map((k) => k.e);
  const more = keyed.length > limit || pages.some((p) => p.nextCursor !== null);
  const last = items[items.length - 1];
  return { items, nextCursor: more && last ? encodeCursor([isoToMicros(last.at), last.id]) : null };
}

/** The query parameters of GET /v1/audit, the same whether one service or the gateway answers it. */
export const AUDIT_LIST_FILTERS = [
  { name: 'orgId', description: 'Writes by this organisation' },
  { name: 'from', description: 'At or after (RFC 3339 with offset, or a date: its start in UTC)' },
  { name: 'to', description: 'At or before (RFC 3339 with offset, or a date: its start in UTC)' },
];

/** One page of the audit log as /docs shows it. */
export const AUDIT_LIST_EXAMPLE = {
  items: [
    {
      id: 'f014328b-44cd-4196-a548-241b35e1ff31',
      at: '2026-12-06T07:53:14.437839Z',
      clientId: 'cli_0310ad574c26e10aaf515cc9',
      orgId: 'b3c27de8-68f6-4cdd-9852-66c8744bd467',
      role: 'operator',
      method: 'POST',
      route: '/v1/agri/batches',
      resourceId: '8765cc77-b133-4213-9cf9-0d507dcd2340',
      correlationId: '258ff4a5-4989-4a54-9ce6-2ba85535cac1',
      status: 201,
    },
  ],
  nextCursor: 'WyIxNzk2NTQzMjQ0NDM3ODM5IiwiZjAxNDMyOGItNDRjZC00MTk2LWE1NDgtMjQxYjM1ZTFmZjMxIl0',
};

@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class AuditController {
  constructor(@Inject(AuditStore) private readonly store: AuditStore | null) {}

  @Get()
  @Roles('admin', 'regulator')
  @ApiList({
    item: AuditEntryDoc,
    example: AUDIT_LIST_EXAMPLE,
    description:
      'The audit log (admins and regulators): every write (POST, PUT, PATCH, DELETE) answered by this deployment, refusals included, ' +
      'oldest first: who (clientId, orgId, role), what (method, route template, resourceId), when (at), correlationId and the ' +
      'answer\'s status. Append-only: entries are never changed or removed.',
    filters: AUDIT_LIST_FILTERS,
  })
  async list(@Query() query: Record<string, unknown>, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    if (!this.store) return { items: [], nextCursor: null };
    return auditPage(this.store, query, { req, res });
  }
}

type AuditedRequest = Request & { principal?: Principal; auditResourceId?: string };

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
const ID_PARAMS = ['id', 'clientId', 'batchId', 'eventId', 'captureId', 'captureID', 'orgId'];

/** The id a route names (`:id` first), if any. */
function idParam(params: Record<string, string> | undefined): string | undefined {
  if (!params) return undefined;
  for (const k of ID_PARAMS) if (typeof params[k] === 'string') return params[k];
  return undefined;
}

/**
 * Every write is recorded once its answer has gone out, whatever the answer:
 * guards' refusals (401, 403) and validation's (400) included, which is why
 * this is middleware (it sees the finished response) rather than only an
 * interceptor (guards run before interceptors). The entry is written after
 * the answer, not in the write's transaction, together with the entries of
 * answers finishing at the same time (AuditStore.record): a process killed
 * between the answer and that INSERT loses the entry (see README "Audit log").
 */
@Injectable()
export class AuditMiddleware implements NestMiddleware {
  constructor(
    @Inject(AuditStore) private readonly store: AuditStore | null,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  use(req: AuditedRequest, res: Response, next: NextFunction): void {
    const store = this.store;
    if (!store || READS.has(req.method)) return next();
    res.on('finish', () => {
      const p = req.principal;
      const route = (req.route as { path?: string } | undefined)?.path;
      const correlation = res.getHeader('x-correlation-id');
      store
        .record({
          clientId: p?.clientId ?? null,
          orgId: p?.orgId ?? null,
          role: p?.role ?? null,
          method: req.method,
          route: (route ?? req.path).slice(0, 400),
          resourceId: (idParam(req.params as Record<string, string>) ?? req.auditResourceId ?? null)?.slice(0, 200) ?? null,
          correlationId: typeof correlation === 'string' ? correlation : null,
          status: res.statusCode,
        })
        .catch((err: unknown) => this.logger.error({ err, method: req.method, url: req.originalUrl }, 'audit entry not written'));
    });
    next();
  }
}

/** Notes the id a write's answer names (a created resource), for its audit entry. */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest<AuditedRequest>();
    if (READS.has(req.method)) return next.handle();
    return next.handle().pipe(
      tap((body) => {
        const b = body as { id?: unknown; captureID?: unknown; clientId?: unknown } | undefined;
        const id = b && typeof b === 'object' ? (b.id ?? b.captureID ?? b.clientId) : undefined;
        if (typeof id === 'string') req.auditResourceId = id;
      }),
    );
  }
}

/** The audit table, append-only by trigger. */
export class AuditLog1765100000000 implements MigrationInterface {
  name = 'AuditLog1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_log (
        id             uuid PRIMARY KEY,
        at             timestamptz NOT NULL DEFAULT clock_timestamp(),
        client_id      text,
        org_id         text,
        role           text,
        method         text NOT NULL,
        route          text NOT NULL,
        resource_id    text,
        correlation_id text,
        status         int NOT NULL
      )`);
    await q.query('CREATE INDEX audit_log_at_idx ON audit_log (at, id)');
    await q.query('CREATE INDEX audit_log_org_at_idx ON audit_log (org_id, at, id)');
    await q.query(`
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query('CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()');
    await q.query('CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()');
  }

  async down(): Promise<void> {
    throw new Error('audit_log is append-only: its migration is not undone');
  }
}

const AuditLifecycle = hostStoreLifecycle(AuditStore, 'database:audit');

/**
 * The audit log of a host: its own schema (`<host>_audit`), so each service
 * process records the writes it answers. `controller: false` leaves
 * GET /v1/audit to the host (the gateway answers it from every service's log
 * when distributed).
 */
@Global()
@Module({})
export class AuditModule implements NestModule {
  static forHost(host: string, opts: { controller?: boolean } = {}): DynamicModule {
    return {
      module: AuditModule,
      controllers: opts.controller === false ? [] : [AuditController],
      providers: [
        {
          provide: AuditStore,
          inject: [PLATFORM_CONFIG],
          useFactory: (config: PlatformConfig) =>
            config.DATABASE_URL
              ? new AuditStore(
                  createServiceDataSource({
                    service: `${host}_audit`,
                    url: config.DATABASE_URL,
                    schemaPrefix: config.DB_SCHEMA_PREFIX,
                    poolSize: 2,
                    preparedStatements: config.DB_PREPARED_STATEMENTS,
                    entities: [],
                    migrations: [AuditLog1765100000000],
                  }),
                )
              : null,
        },
        AuditLifecycle,
        AuditMiddleware,
        { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
      ],
      exports: [AuditStore],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(AuditMiddleware).forRoutes('*');
  }
}
