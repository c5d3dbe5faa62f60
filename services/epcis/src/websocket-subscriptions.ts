import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { BeforeApplicationShutdown, HttpException, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { nextScheduledRun, SCHEDULE_FIELDS, type QuerySchedule } from '@trace/epcis';
import {
  DomainError,
  isWebSocketUpgrade,
  LOGGER,
  problemType,
  refuseUpgrade,
  STATUS_TITLES,
  TOKEN_REVOCATIONS,
  TOKEN_SERVICE,
  WEBHOOK_OPTIONS,
  type Logger,
  type Principal,
  type TokenRevocations,
  type TokenService,
  type WebhookOptions,
  WebSocketAcceptor,
  type WebSocketConnection,
} from '@trace/platform';
import { NamedQueryService } from './named-query.service';
import { QueryService } from './query.service';
import { ChainWrites } from './chain-writes';
import { lookHorizon, readSubscriptionControls, type LookHorizon, subscriptionDocument } from './subscription-controls';

const PATH = /^\/v1\/epcis\/queries\/([^/?#]+)\/events\/?$/;
/** The query parameters of the binding's WebSocket subscription, and the token (RFC 6750's access_token, for browsers, which cannot set headers). */
const PARAMETERS = new Set<string>(['stream', 'reportIfEmpty', 'initialRecordTime', ...SCHEDULE_FIELDS, 'access_token']);
const EVENTS_PER_LOOK = 500;
/** Open subscription sockets per replica: each costs a query per look. */
const MAX_SOCKETS = 500;

interface Live {
  id: string;
  socket: WebSocketConnection;
  queryName: string;
  principal: Principal;
  tokenVersion: number;
  schedule?: QuerySchedule;
  reportIfEmpty: boolean;
  nextRun?: Date;
  cursor: { recordTime: string; key: string };
  lookedAt?: Date;
}

/**
 * WebSocket subscriptions of the REST binding: `GET /v1/epcis/queries/{name}/events` with `Upgrade:
 * websocket` and `stream=true` or schedule parameters. Authenticated as the REST route is (a bearer token
 * in Authorization, or `access_token` in the query for browsers), authorised as the webhook subscriptions
 * are (the organisation's own named query, events as it sees them). A subscription lives while its socket
 * is open, on the replica holding the socket: each look sends the matching events recorded since the
 * previous one as an EPCISQueryDocument text message (a scheduled one at each run, an empty document only
 * with reportIfEmpty). Nothing is stored, so nothing is retried: a client that reconnects gives
 * initialRecordTime to read on from where it was.
 */
@Injectable()
export class WebSocketSubscriptions implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly live = new Set<Live>();
  private server?: Server;
  private timer?: NodeJS.Timeout;
  private looking?: Promise<void>;
  private again = false;
  private stopped = false;
  /** A subscriber sends nothing but control frames: a message of more than 4 KiB is no client of ours (1009). */
  private readonly acceptor = new WebSocketAcceptor({ maxPayload: 4 << 10 });
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.upgrade(req, socket, head);

  constructor(
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(QueryService) private readonly queries: QueryService,
    @Inject(NamedQueryService) private readonly named: NamedQueryService,
    @Inject(TOKEN_SERVICE) private readonly tokens: TokenService,
    @Inject(TOKEN_REVOCATIONS) private readonly revocations: TokenRevocations,
    @Inject(WEBHOOK_OPTIONS) private readonly options: WebhookOptions,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(ChainWrites) private readonly chainWrites: ChainWrites,
  ) {}

  onApplicationBootstrap() {
    this.server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    this.server?.on('upgrade', this.onUpgrade);
  }

  async beforeApplicationShutdown() {
    this.server?.off('upgrade', this.onUpgrade);
    this.stopped = true;
    clearTimeout(this.timer);
    await this.looking;
    for (const l of this.live) l.socket.close(1001, 'server shutting down');
  }

  /** How many subscription sockets are open here (tests, metrics). */
  get openCount(): number {
    return this.live.size;
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const match = PATH.exec(url.pathname);
    if (!match || !isWebSocketUpgrade(req)) {
      // Another listener may own this path; with none, the socket would hang.
      if ((this.server?.listenerCount('upgrade') ?? 1) === 1) refuseUpgrade(socket, 404, problem(new DomainError(404, 'not-found', `No WebSocket at ${url.pathname}`)));
      return;
    }
    try {
      const queryName = decodeURIComponent(match[1]);
      const params: Record<string, string> = {};
      const errors: { field: string; message: string }[] = [];
      for (const [k, v] of url.searchParams) {
        if (!PARAMETERS.has(k)) errors.push({ field: k, message: 'not a parameter of a WebSocket subscription (stream, reportIfEmpty, initialRecordTime, second, minute, hour, dayOfMonth, month, dayOfWeek)' });
        else if (k in params) errors.push({ field: k, message: 'given twice' });
        else params[k] = v;
      }
      const header = req.headers.authorization;
      const token = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : params.access_token;
      if (!token) throw new HttpException('A bearer token is required (Authorization: Bearer …, or access_token in the query)', 401);
      const { principal, version } = await this.tokens.verifyClaims(token);
      if (await this.revocations.retired(principal.clientId, version)) throw new HttpException('Token revoked: the client was deleted or its secret rotated', 401);
      await this.named.get(queryName, principal);
      if (this.live.size >= MAX_SOCKETS) throw new DomainError(503, 'service-unavailable', `This replica holds ${MAX_SOCKETS} subscription sockets already; try again later`);
      const bool = (v: string | undefined) => (v === undefined ? undefined : v === 'true' ? true : v === 'false' ? false : v);
      const scheduleGiven = SCHEDULE_FIELDS.filter((f) => params[f] !== undefined);
      const controls = readSubscriptionControls(
        {
          stream: bool(params.stream),
          reportIfEmpty: bool(params.reportIfEmpty),
          initialRecordTime: params.initialRecordTime,
          schedule: scheduleGiven.length ? Object.fromEntries(scheduleGiven.map((f) => [f, params[f]])) : undefined,
        },
        errors,
        '',
      );
      if (errors.length) {
        throw new DomainError(400, 'epcis-subscription', 'The query subscription is not valid', { errors, epcisException: 'epcisException:SubscriptionControlsException' });
      }
      const connection = await this.acceptor.accept(req, socket, head, { 'GS1-Query-Min-Record-Time': controls.initialRecordTime.toISOString(), 'GS1-EPCIS-Version': '2.0.0' });
      if (!connection) return;
      const live: Live = {
        id: randomUUID(),
        socket: connection,
        queryName,
        principal,
        tokenVersion: version,
        schedule: controls.schedule,
        reportIfEmpty: controls.reportIfEmpty,
        nextRun: controls.schedule ? nextScheduledRun(controls.schedule, new Date()) : undefined,
        cursor: { recordTime: controls.initialRecordTime.toISOString(), key: '' },
      };
      this.live.add(live);
      connection.onClose(() => this.live.delete(live));
      this.schedule(0);
    } catch (err) {
      if (err instanceof DomainError || err instanceof HttpException) refuseUpgrade(socket, statusOf(err), problem(err));
      else {
        this.logger.warn({ err, path: url.pathname }, 'EPCIS WebSocket subscription refused on an error');
        refuseUpgrade(socket, 500, problem(new DomainError(500, 'internal', 'The subscription could not be opened')));
      }
    }
  }

  /**
   * One pass at a time: two would each read a socket's cursor before the other moved it and send the same
   * events twice. A socket opened while a pass runs asks for another right after it instead of its own.
   */
  private schedule(delay: number): void {
    if (this.stopped || !this.live.size) return;
    if (this.looking) {
      this.again ||= delay === 0;
      return;
    }
    if (this.timer) {
      if (delay > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.looking = this.pass()
        .catch((err) => this.logger.warn({ err }, 'EPCIS WebSocket subscription pass failed; will retry'))
        .finally(() => {
          this.looking = undefined;
          const again = this.again;
          this.again = false;
          this.schedule(again ? 0 : this.options.pollMs);
        });
    }, delay);
  }

  /** One look at every open subscription due: a stream one when the chains moved since its last look, a scheduled one at its run. */
  private async pass(): Promise<void> {
    // The chains moved: a capture job (any replica's) or another write path heard of here.
    const [{ moved }] = (await this.ds.query(`SELECT GREATEST(max(COALESCE(finished_at, heartbeat_at)), $1::timestamptz) AS moved FROM capture_jobs`, [
      this.chainWrites.movedAt ?? null,
    ])) as { moved: Date | null }[];
    const now = new Date();
    // One horizon for the pass: still safe when used later (whatever was writing then had started after it),
    // and the server's lock table is read once, not once a socket.
    let horizon: LookHorizon | undefined;
    for (const l of [...this.live]) {
      if (!l.socket.open) continue;
      if (l.schedule ? (l.nextRun as Date) > now : l.lookedAt && (!moved || moved <= l.lookedAt)) continue;
      // A token retired since (client deleted, secret rotated) ends its subscriptions.
      if (await this.revocations.retired(l.principal.clientId, l.tokenVersion)) {
        l.socket.close(1008, 'token revoked');
        continue;
      }
      horizon ??= await lookHorizon(this.ds);
      await this.look(l, horizon);
    }
  }

  private async look(l: Live, at: LookHorizon): Promise<void> {
    const parsed = await this.named.parsed(l.principal.orgId, l.queryName);
    // The binding: deleting a query "forcibly unsubscribes all active subscriptions, whether by WebSockets or Webhooks".
    if (!parsed) {
      l.socket.close(1000, 'query deleted');
      return;
    }
    for (let page = 0; l.socket.open; page++) {
      const { horizon, now } = at;
      const { events, last } = await this.queries.recordedSince(parsed, l.cursor, horizon, EVENTS_PER_LOOK, l.principal);
      const more = events.length === EVENTS_PER_LOOK;
      if (events.length > 0 || (l.schedule && l.reportIfEmpty && page === 0)) l.socket.sendText(subscriptionDocument(events, l.queryName, l.id));
      l.cursor = last;
      if (!more) {
        // Up to the horizon, not now: held back by a writer still open, the socket is due again until a look
        // gets past it (the chains moved after the horizon).
        l.lookedAt = new Date(horizon);
        if (l.schedule) l.nextRun = nextScheduledRun(l.schedule, now);
        return;
      }
    }
  }
}

const statusOf = (err: DomainError | HttpException) => (err instanceof DomainError ? err.status : err.getStatus());

function problem(err: DomainError | HttpException): Record<string, unknown> {
  if (err instanceof DomainError) {
    return { ...err.extensions, type: problemType(err.rule), title: STATUS_TITLES[err.status] ?? 'Error', status: err.status, detail: err.message };
  }
  const status = err.getStatus();
  return { type: problemType(status === 401 ? 'unauthorized' : 'bad-request'), title: STATUS_TITLES[status] ?? 'Error', status, detail: err.message };
}
