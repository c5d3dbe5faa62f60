import {
  type CallHandler,
  type DynamicModule,
  type ExecutionContext,
  Global,
  Inject,
  Injectable,
  Module,
  type NestInterceptor,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { APP_INTERCEPTOR, Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import { canonicalJson } from '@trace/trace-chain';
import type { Principal } from './auth';
import { PLATFORM_CONFIG, type PlatformConfig } from './config';
import { createServiceDataSource, initializeServiceDatabase } from './database';
import { hostStoreLifecycle } from './host-store';
import { LOGGER, type Logger } from './logging';
import { badRequest, DomainError, ProblemDetailsFilter, problemType, unprocessable, type ProblemDetails } from './problem';
import { uploadOf } from './upload-body';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** 1–200 printable ASCII characters (API.md, Idempotency). */
const KEY_FORMAT = /^[\x20-\x7e]{1,200}$/;
/** How long a key is remembered (API.md: at least 24 hours). */
export const IDEMPOTENCY_TTL_HOURS = 24;
/** A claim without an answer this old belongs to a request that died with its process: it may be claimed again. */
const ABANDONED_AFTER_SECONDS = 300;
/** How long a duplicate waits for the first request to answer before it is told the key is busy. */
const WAIT_FOR_FIRST_MS = 30_000;

/**
 * The key is checked (format) wherever it is sent; `undefined` when none was.
 * Throws a 400 naming the header otherwise.
 */
export function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? header.join(',') : header;
  if (!KEY_FORMAT.test(key)) {
    throw badRequest('idempotency-key', 'Idempotency-Key must be 1-200 printable ASCII characters', [
      { field: 'Idempotency-Key', message: 'must be 1-200 printable ASCII characters' },
    ]);
  }
  return key;
}

/** What makes two requests "the same": method, path and query, and the body in canonical form (key order does not matter). */
export function requestFingerprint(method: string, url: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${url}\n${body === undefined ? '' : canonicalJson(body)}`)
    .digest('hex');
}

/**
 * What is stored for a key: its hash, not the key. The answer is sealed with
 * a key derived from the caller and the raw key (AES-256-GCM), so the table
 * alone reveals no answer — some hold secrets shown once (a new client's
 * secret) — while the caller retrying with its key gets it back.
 */
export function idempotencyKeyId(caller: string, key: string): string {
  return createHash('sha256').update(`idempotency-key\n${caller}\n${key}`).digest('hex');
}

function sealKey(caller: string, key: string): Buffer {
  return createHash('sha256').update(`idempotency-answer\n${caller}\n${key}`).digest();
}

export function sealAnswer(caller: string, key: string, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealKey(caller, key), iv);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64')).join('.');
}

export function openAnswer(caller: string, key: string, sealed: string): string {
  const [iv, tag, data] = sealed.split('.').map((p) => Buffer.from(p, 'base64'));
  const decipher = createDecipheriv('aes-256-gcm', sealKey(caller, key), iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
}

/** The first answer to a keyed request. */
export interface StoredAnswer {
  status: number;
  body: string;
  location: string | null;
}

type Claim =
  | { kind: 'claimed' }
  | { kind: 'answered'; answer: StoredAnswer }
  | { kind: 'in-flight' }
  | { kind: 'reused' };

/** Keys remembered per caller, in the host's own schema: the one writer of `idempotency_keys`. */
export class IdempotencyStore {
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly ttlHours = IDEMPOTENCY_TTL_HOURS,
  ) {}

  async start(logger?: Logger): Promise<void> {
    await initializeServiceDatabase(this.dataSource, logger);
    await this.purge();
    this.purgeTimer = setInterval(() => void this.purge().catch((err) => logger?.warn({ err }, 'idempotency purge failed')), 3_600_000);
    this.purgeTimer.unref();
  }

  /** Readiness: keyed POSTs need the table. */
  async ping(): Promise<void> {
    await this.dataSource.query('SELECT 1');
  }

  async stop(): Promise<void> {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }

  /**
   * Claims the key for this request, atomically (the primary key decides
   * between concurrent duplicates): a key unknown, expired or abandoned is
   * claimed; else the row says whether it was answered, is still running,
   * or was used for another request.
   */
  async claim(caller: string, key: string, fingerprint: string): Promise<Claim> {
    const claimed = await this.dataSource.query(
      `INSERT INTO idempotency_keys (caller, key, fingerprint) VALUES ($1, $2, $3)
       ON CONFLICT (caller, key) DO UPDATE
         SET fingerprint = EXCLUDED.fingerprint, claimed_at = now(), status = NULL, body = NULL, location = NULL, answered_at = NULL
         WHERE idempotency_keys.claimed_at < now() - make_interval(hours => $4)
            OR (idempotency_keys.answered_at IS NULL AND idempotency_keys.claimed_at < now() - make_interval(secs => $5))
       RETURNING 1`,
      [caller, key, fingerprint, this.ttlHours, ABANDONED_AFTER_SECONDS],
    );
    if (claimed.length > 0) return { kind: 'claimed' };
    const [row] = await this.dataSource.query(
      'SELECT fingerprint, status, body, location FROM idempotency_keys WHERE caller = $1 AND key = $2',
      [caller, key],
    );
    // Released between the two statements (the first attempt failed): try again.
    if (!row) return this.claim(caller, key, fingerprint);
    if (row.fingerprint !== fingerprint) return { kind: 'reused' };
    if (row.status === null) return { kind: 'in-flight' };
    return { kind: 'answered', answer: { status: row.status, body: row.body, location: row.location } };
  }

  async answer(caller: string, key: string, answer: StoredAnswer): Promise<void> {
    await this.dataSource.query(
      `UPDATE idempotency_keys SET status = $3, body = $4, location = $5, answered_at = now() WHERE caller = $1 AND key = $2`,
      [caller, key, answer.status, answer.body, answer.location],
    );
  }

  /** A failed attempt wrote nothing (its transaction rolled back): the key is free for a retry. */
  async release(caller: string, key: string): Promise<void> {
    await this.dataSource.query('DELETE FROM idempotency_keys WHERE caller = $1 AND key = $2 AND answered_at IS NULL', [caller, key]);
  }

  async purge(): Promise<number> {
    const rows = await this.dataSource.query(
      `DELETE FROM idempotency_keys WHERE claimed_at < now() - make_interval(hours => $1) RETURNING 1`,
      [this.ttlHours],
    );
    return rows.length;
  }
}

/**
 * Every POST with an `Idempotency-Key`: the first request with a key runs
 * and its answer is kept; a retry with the same key, caller and body gets
 * that answer (same status, body and Location) and runs nothing; the same key
 * with another body is a 422; a duplicate arriving while the first still runs
 * waits for its answer. A refusal (4xx) is an answer too and is replayed; a
 * fault of ours (5xx) keeps nothing, so the request can be retried with the
 * same key. Public routes (no caller) write nothing on
 * anyone's behalf: their key is only checked for format.
 *
 * In distributed mode the gateway proxies domain routes before Nest sees
 * them, so a key is honoured once, by the service that owns the route.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly problems: ProblemDetailsFilter;

  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(IdempotencyStore) private readonly store: IdempotencyStore | null,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.problems = new ProblemDetailsFilter(logger);
  }

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest<Request & { principal?: Principal }>();
    if (req.method !== 'POST') return next.handle();
    const key = idempotencyKeyOf(req.headers[IDEMPOTENCY_HEADER]);
    if (key === undefined || !req.principal || !this.store) return next.handle();
    const res = ctx.switchToHttp().getResponse<Response>();
    const status = this.reflector.get<number | undefined>(HTTP_CODE_METADATA, ctx.getHandler()) ?? 201;
    return from(this.run(this.store, `${req.principal.orgId}/${req.principal.clientId}`, key, req, res, status, next));
  }

  private async run(store: IdempotencyStore, caller: string, rawKey: string, req: Request, res: Response, status: number, next: CallHandler) {
    // An uploaded file is not in req.body: its digest stands for it, so another file under the same key is a 422.
    const upload = uploadOf(req);
    const fingerprinted = upload ? { upload: createHash('sha256').update(upload.format).update('\0').update(upload.content).digest('hex') } : req.body;
    const fingerprint = requestFingerprint(req.method, req.originalUrl, fingerprinted);
    const key = idempotencyKeyId(caller, rawKey);
    const deadline = Date.now() + WAIT_FOR_FIRST_MS;
    for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
      const claim = await store.claim(caller, key, fingerprint);
      if (claim.kind === 'reused') {
        throw unprocessable('idempotency-key-reused', 'This Idempotency-Key was used for another request; use a new key for a new request');
      }
      if (claim.kind === 'answered') return replay(res, { ...claim.answer, body: openAnswer(caller, rawKey, claim.answer.body) });
      if (claim.kind === 'claimed') break;
      if (Date.now() > deadline) {
        throw new DomainError(409, 'idempotency-key-in-flight', 'A request with this Idempotency-Key is still being processed; retry shortly');
      }
      // The first request with this key is running: its answer will be ours.
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    let body: unknown;
    try {
      body = await lastValueFrom(next.handle(), { defaultValue: undefined });
    } catch (err) {
      const problem = this.problems.toProblem(err);
      if (problem.status >= 500) {
        // A fault of ours, not an answer: the key is free for a retry.
        await store.release(caller, key).catch(() => undefined);
      } else {
        // A refusal is the answer to this request (API.md): the same retry gets the same refusal.
        const sealed = sealAnswer(caller, rawKey, JSON.stringify(problem));
        await store.answer(caller, key, { status: problem.status, body: sealed, location: null }).catch(() => store.release(caller, key));
      }
      throw err;
    }
    const location = res.getHeader('location');
    await store.answer(caller, key, {
      status: res.statusCode !== 200 ? res.statusCode : status,
      body: sealAnswer(caller, rawKey, JSON.stringify(body ?? null)),
      location: typeof location === 'string' ? location : null,
    });
    return body;
  }
}

function replay(res: Response, answer: StoredAnswer): unknown {
  res.setHeader('Idempotent-Replayed', 'true');
  if (answer.status >= 400) {
    // A refusal goes out through the problem filter again, as it did the first time.
    const { type, status, detail, title: _title, instance: _instance, ...extensions } = JSON.parse(answer.body) as ProblemDetails;
    throw new DomainError(status, type.slice(problemType('').length), detail ?? '', extensions);
  }
  res.status(answer.status);
  if (answer.location) res.setHeader('Location', answer.location);
  return JSON.parse(answer.body);
}

/** The one table of remembered keys (`key` holds idempotencyKeyId, `body` the sealed answer). */
export class IdempotencyKeys1765000200000 implements MigrationInterface {
  name = 'IdempotencyKeys1765000200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        caller      text NOT NULL,
        key         text NOT NULL,
        fingerprint text NOT NULL,
        claimed_at  timestamptz NOT NULL DEFAULT now(),
        status      int,
        body        text,
        location    text,
        answered_at timestamptz,
        PRIMARY KEY (caller, key)
      )`);
    await q.query('CREATE INDEX idempotency_keys_claimed_idx ON idempotency_keys (claimed_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE idempotency_keys');
  }
}

const IdempotencyLifecycle = hostStoreLifecycle(IdempotencyStore, 'database:idempotency');

/**
 * Idempotency keys for a host: its own schema (`<host>_idempotency`, after
 * the schema prefix), so that each service process keeps the keys of the
 * routes it answers. Without a database (none configured) keys are only
 * checked for format.
 */
@Global()
@Module({})
export class IdempotencyModule {
  static forHost(host: string): DynamicModule {
    return {
      module: IdempotencyModule,
      providers: [
        {
          provide: IdempotencyStore,
          inject: [PLATFORM_CONFIG],
          useFactory: (config: PlatformConfig) =>
            config.DATABASE_URL
              ? new IdempotencyStore(
                  createServiceDataSource({
                    service: `${host}_idempotency`,
                    url: config.DATABASE_URL,
                    schemaPrefix: config.DB_SCHEMA_PREFIX,
                    poolSize: 2,
                    preparedStatements: config.DB_PREPARED_STATEMENTS,
                    entities: [],
                    migrations: [IdempotencyKeys1765000200000],
                  }),
                )
              : null,
        },
        IdempotencyLifecycle,
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
      ],
      exports: [IdempotencyStore],
    };
  }
}
