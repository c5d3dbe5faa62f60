/**
 * Fastify or Express under the app's own global pipeline, side by side with a
 * bare Node `http` server answering the same bytes, all three in the same run.
 *
 *   node scripts/run.js scripts/bench/http-adapter.ts
 *   # BENCH_SECONDS (5 per load), BENCH_ROUNDS (3), BENCH_CONNECTIONS (10), BENCH_WARMUP (3 s; 0 = none)
 *   # LOG_LEVEL of the servers (warn, as the other benchmarks: request lines are info)
 *
 * Four server processes, each on its own port (CPU is counted per process,
 * from /proc): the app's pipeline on @nestjs/platform-express, the same on
 * @nestjs/platform-fastify, Express with only the pieces that run on Fastify
 * (express-subset: the adapter's cost apart from theirs), and bare-routes.js. The app's pipeline is what
 * every service process installs: the modules of createHostApp (PlatformModule
 * with its global guards AuthGuard and LookupRateLimitGuard, the idempotency
 * and audit modules with their global interceptors and the audit middleware;
 * no database, so their stores are off, as in a process without
 * DATABASE_URL), and createHttpApp's global middleware, pipe and filter.
 * Express runs createHttpApp itself. Fastify cannot run all of it as it is
 * (the middleware is typed against, and uses, Express's Request/Response):
 * `fastifyApp` below installs what runs there and says, for each piece, why
 * the others do not. The COMPAT lines show what each adapter answers to the
 * cases that tell them apart.
 *
 * Routes (a bench controller, because the real ones reach the database; the
 * body DTO is the real RecordEventDto of `POST /v1/{domain}/batches/{id}/events`):
 *   GET  /v1/bench/batches/{id}?include=holdings  bearer token (AuthGuard: JWT
 *        verified, revocation looked up in the memory cache), ParseUUIDPipe,
 *        query DTO, a batch view from a Map, serialised by the framework
 *   POST /v1/bench/batches/{id}/events            the same, body validated as
 *        RecordEventDto, answered { id, seq, hash, prevHash } without the database
 * The bare server answers the very bytes the Express app answered.
 *
 * Rounds alternate the four servers (the order turns each round) so the load
 * of the shared machine falls on each alike; every load is autocannon
 * (support/measure.ts, as scan-load.ts), keep-alive, on loopback. The numbers
 * compared are the median over rounds of the server process's CPU per request
 * and req/s; BENCH_RESULT lines give each Nest server against the bare server,
 * and Fastify against Express (whole, and with the same pieces).
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Body, Controller, Get, type INestApplication, Module, NotFoundException, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { type AbstractHttpAdapter, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { IsIn, IsOptional } from 'class-validator';
import {
  AuditModule,
  correlationAndRequestLog,
  createHttpApp,
  createLogger,
  createValidationPipe,
  CurrentPrincipal,
  FastAnswers,
  IdempotencyModule,
  loadConfig,
  Metrics,
  PinoNestLogger,
  PlatformModule,
  ProblemDetailsFilter,
  RequestContext,
  securityHeaders,
  TokenService,
  type Logger,
  type PlatformConfig,
  type Principal,
} from '@trace/platform';
import { RecordEventDto } from '@trace/trace-service';
import { freePort } from '@trace/testing';
import { load, type LoadRow, type Target } from './support/measure';

const SECRET = 'bench-http-adapter-secret-0123456789abcdef';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const BATCH_ID = '5b0c1b64-3b55-4d39-9a52-3f5f1c0d2a41';
const FARM = 'c92dfc37-18ec-4095-9f8c-d034e07d20fe';
const SHOP = '0f3a4a8e-6d0e-4c1b-8a57-0d7c2b1e9f30';

/** express-subset: Express with only the pieces that run on Fastify (Nest's own JSON parser), to tell the adapter's cost from theirs. */
type Adapter = 'express' | 'fastify' | 'express-subset';

// ---------------------------------------------------------------------------------------------------------------
// The server side: `http-adapter.ts serve <express|fastify> <port>`, in a process of its own.

class BatchViewQuery {
  @IsOptional()
  @IsIn(['holdings'])
  include?: 'holdings';
}

/** What `GET /v1/{domain}/batches/{id}` answers, about (the shape of openapi-examples' BATCH_VIEW_EXAMPLE). */
const BATCHES = new Map<string, Record<string, unknown>>([
  [
    BATCH_ID,
    {
      id: BATCH_ID,
      domain: 'agri',
      gtin: '09506000134352',
      lot: 'LOT-2026-001',
      orgId: FARM,
      status: 'active',
      quantity: { value: 1200, unit: 'kg' },
      producedAt: '2026-11-20T06:00:00+08:00',
      registeredAt: '2026-11-20T06:05:12.345Z',
      holderOrgId: SHOP,
      locationId: 'a57ce6f7-29b8-45d4-9aff-a89a48350dd9',
      chainLength: 3,
      chainHead: 'd80aac95603196d6c463123138f7cb627ea869814d93897bccb221f2f4812b16',
      remaining: { value: 1200, unit: 'kg' },
      holdings: [
        { orgId: FARM, quantity: 700, inTransit: 0 },
        { orgId: SHOP, quantity: 500, inTransit: 0 },
      ],
    },
  ],
]);

const uuid = () => new ParseUUIDPipe({ version: '4' });

@Controller('v1/bench')
class BenchController {
  @Get('context')
  context() {
    // Whether the handler runs in the request's async context (RequestContext), on this adapter.
    return { correlationId: RequestContext.current()?.correlationId ?? null };
  }

  @Post('context')
  contextOfPost(@Body() dto: RecordEventDto) {
    return { correlationId: RequestContext.current()?.correlationId ?? null, bizStep: dto.bizStep };
  }

  @Get('batches/:id')
  view(@Param('id', uuid()) id: string, @Query() query: BatchViewQuery, @CurrentPrincipal() principal: Principal) {
    const batch = BATCHES.get(id);
    if (!batch || !principal) throw new NotFoundException(`No batch ${id}`);
    return query.include === 'holdings' ? batch : { ...batch, holdings: undefined };
  }

  @Post('batches/:id/events')
  record(@Param('id', uuid()) id: string, @Body() dto: RecordEventDto, @CurrentPrincipal() principal: Principal) {
    if (!BATCHES.has(id) || !principal) throw new NotFoundException(`No batch ${id}`);
    return {
      id: '1fbf8517-d64a-41f8-90c7-c2e8d05875c3',
      seq: 2,
      bizStep: dto.bizStep,
      hash: 'd80aac95603196d6c463123138f7cb627ea869814d93897bccb221f2f4812b16',
      prevHash: 'ac6c1a402fcf6bb775951c9aed21f79910eff4037a58fa01880b08fdab79bee0',
    };
  }
}

@Module({ controllers: [BenchController] })
class BenchModule {}

/** createHostApp's modules, less messaging (no route here publishes). */
function hostModule(config: PlatformConfig, logger: Logger) {
  @Module({
    imports: [PlatformModule.forRoot({ config, logger }), IdempotencyModule.forHost('bench'), AuditModule.forHost('bench', { controller: false }), BenchModule],
  })
  class BenchHostModule {}
  return BenchHostModule;
}

/**
 * The pipeline of createHttpApp on Fastify, as far as it runs there unchanged.
 * Runs: FastAnswers (on the node server's `request` event, ahead of either
 * adapter), securityHeaders (its /docs check reads `req.path`, which a raw
 * request lacks, so it never matches), correlationAndRequestLog,
 * metrics.httpMiddleware (reads `req.route`, absent: every route is labelled
 * "unmatched"), the validation pipe, the problem filter (the success path does
 * not enter it), CORS (through @fastify/cors), and the module's guards,
 * interceptors and AuditMiddleware. Middleware runs through @fastify/middie on
 * the raw IncomingMessage/ServerResponse, in Fastify's onRequest hook, before
 * the body is parsed.
 * Does not run: express.json (replaced by the JSON parser Nest installs on
 * Fastify: the same 20 MB limit, `__proto__` and `constructor` refused, but
 * not `prototype`, and not application/*+json), uploadBody and xmlBody
 * (Express middleware reading the stream; they would be Fastify content-type
 * parsers), the 415 check (`req.is`), the body-error handler (an Express
 * 4-argument error middleware), hostileInputGuard (`req.path.split` throws
 * on a raw request, and the body is not parsed yet at onRequest: it would be a
 * preValidation hook), the CORS preflight ending (`res.status`).
 */
async function subsetApp(adapter: 'fastify' | 'express', module: unknown, config: PlatformConfig, logger: Logger): Promise<INestApplication> {
  const options = { logger: new PinoNestLogger(logger), abortOnError: false };
  let app: INestApplication;
  if (adapter === 'fastify') {
    // Loaded by name: the tree typechecks before `npm install` has brought this devDependency in.
    const specifier = '@nestjs/platform-fastify';
    const { FastifyAdapter } = (await import(specifier)) as { FastifyAdapter: new (opts: Record<string, unknown>) => AbstractHttpAdapter };
    app = await NestFactory.create(module as never, new FastifyAdapter({ bodyLimit: 20 * 1024 * 1024, onProtoPoisoning: 'error', onConstructorPoisoning: 'error' }), options);
  } else {
    // Nest's own body-parser JSON on Express, in place of createHttpApp's express.json with its reviver.
    const express = await NestFactory.create<NestExpressApplication>(module as never, { ...options, bodyParser: true });
    express.useBodyParser('json', { limit: '20mb' });
    app = express;
  }
  const metrics = app.get(Metrics);
  app.get(FastAnswers).attach(app.getHttpServer(), logger, metrics);
  app.use(securityHeaders());
  app.use(correlationAndRequestLog(logger));
  app.use(metrics.httpMiddleware());
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter(logger));
  app.enableCors({ origin: '*', methods: ['GET', 'HEAD', 'OPTIONS'], allowedHeaders: ['Accept', 'Content-Type'], preflightContinue: true });
  return app;
}

async function serve(adapter: Adapter, port: number) {
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', { service: `bench-${adapter}` });
  const config = loadConfig({ JWT_SECRET: SECRET }, { RUN_MODE: 'embedded', PORT: port, OPENAPI_ENABLED: false });
  const module = hostModule(config, logger);
  const app =
    adapter === 'express' ? await createHttpApp(module, { config, logger, title: 'bench', shutdownHooks: false }) : await subsetApp(adapter === 'fastify' ? 'fastify' : 'express', module, config, logger);
  await app.init();
  await app.listen(port, '127.0.0.1');
  process.stdout.write('listening\n');
  process.on('SIGTERM', () => void app.close().finally(() => process.exit(0)));
}

// ---------------------------------------------------------------------------------------------------------------
// The measuring side.

interface Server extends Target {
  name: string;
  child: ChildProcess;
}

async function spawnServer(name: string, args: string[]): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [...args, String(port)], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not start within 60 s`)), 60_000);
    child.once('exit', (code) => fail(new Error(`${name} exited ${code} before listening`)));
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) {
        clearTimeout(timer);
        ready();
      }
    });
  });
  return { name, url: `http://127.0.0.1:${port}`, pid: child.pid!, child };
}

const RUN = resolve(__dirname, '../run.js');
const SELF = resolve(__dirname, 'http-adapter.ts');

async function answer(url: string, init: RequestInit) {
  const r = await fetch(url, init);
  return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
}

/** What each adapter answers to the cases that tell them apart (printed, and part of the report). */
async function compat(s: Server, token: string): Promise<string[]> {
  const auth = { authorization: `Bearer ${token}` };
  const json = { ...auth, 'content-type': 'application/json' };
  const event = JSON.stringify({ bizStep: 'storing', eventTime: '2026-11-21T08:00:00+08:00', locationId: 'field-1' });
  const out: string[] = [];
  const get = await answer(`${s.url}/v1/bench/context`, { headers: { ...auth, 'x-correlation-id': 'bench-get-1' } });
  out.push(`request context in a GET handler: ${JSON.parse(get.body.toString()).correlationId === 'bench-get-1' ? 'yes' : 'NO'}`);
  const post = await answer(`${s.url}/v1/bench/context`, { method: 'POST', headers: { ...json, 'x-correlation-id': 'bench-post-1' }, body: event });
  out.push(`request context in a POST handler: ${post.status === 201 && JSON.parse(post.body.toString()).correlationId === 'bench-post-1' ? 'yes' : `NO (${post.status} ${post.body.toString().slice(0, 80)})`}`);
  out.push(`security headers: ${get.headers.get('content-security-policy') && get.headers.get('x-frame-options') === 'DENY' ? 'yes' : 'NO'}`);
  const bad = await answer(`${s.url}/v1/bench/batches/${BATCH_ID}/events`, { method: 'POST', headers: json, body: JSON.stringify({ bizStep: 'Not A Step' }) });
  out.push(`invalid body: ${bad.status} ${bad.headers.get('content-type')}`);
  const hostile = await answer(`${s.url}/v1/bench/batches/${BATCH_ID}?include=%00`, { headers: auth });
  out.push(`NUL in the query: ${hostile.status} ${hostile.headers.get('content-type')}`);
  const xml = await answer(`${s.url}/v1/bench/batches/${BATCH_ID}/events`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'hello' });
  out.push(`text/plain body: ${xml.status} ${xml.headers.get('content-type')}`);
  const preflight = await answer(`${s.url}/v1/bench/batches/${BATCH_ID}`, { method: 'OPTIONS', headers: { origin: 'https://example.com', 'access-control-request-method': 'GET' } });
  out.push(`CORS preflight: ${preflight.status}`);
  const internal = await answer(`${s.url}/internal/anything`, { headers: auth });
  out.push(`unknown /internal path: ${internal.status} ${internal.headers.get('content-type')}`);
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const r3 = (n: number) => Math.round(n * 1000) / 1000;

async function main() {
  const token = (await new TokenService(SECRET).sign({ clientId: 'bench-operator', orgId: FARM, role: 'operator' })).token;
  const dir = mkdtempSync(join(tmpdir(), 'bench-adapter-'));
  const servers: Server[] = [];
  try {
    servers.push(await spawnServer('express', [RUN, SELF, 'serve', 'express']));
    servers.push(await spawnServer('fastify', [RUN, SELF, 'serve', 'fastify']));
    servers.push(await spawnServer('express-subset', [RUN, SELF, 'serve', 'express-subset']));
    const [express, fastify, expressSubset] = servers;
    const getPath = `/v1/bench/batches/${BATCH_ID}?include=holdings`;
    const postPath = `/v1/bench/batches/${BATCH_ID}/events`;
    const postBody = JSON.stringify({ bizStep: 'storing', eventTime: '2026-11-21T08:00:00+08:00', locationId: 'a57ce6f7-29b8-45d4-9aff-a89a48350dd9', quantity: { value: 12.5, unit: 'kg' } });
    const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };
    const postHeaders = { ...headers, 'content-type': 'application/json' };
    // Both adapters must answer the same bytes, or they are not doing the same work.
    const bodies: Record<string, Buffer> = {};
    for (const s of [express, fastify, expressSubset]) {
      const g = await answer(`${s.url}${getPath}`, { headers });
      const p = await answer(`${s.url}${postPath}`, { method: 'POST', headers: postHeaders, body: postBody });
      if (g.status !== 200 || p.status !== 201) throw new Error(`${s.name}: GET ${g.status} ${g.body}, POST ${p.status} ${p.body}`);
      for (const [k, b] of [
        ['get', g.body],
        ['post', p.body],
      ] as const) {
        if (bodies[k] && !bodies[k].equals(b)) throw new Error(`${s.name} answers ${k} with other bytes than express:\n${b}\n${bodies[k]}`);
        bodies[k] = b;
      }
    }
    writeFileSync(join(dir, 'get.json'), bodies.get);
    writeFileSync(join(dir, 'post.json'), bodies.post);
    servers.push(await spawnServer('bare', [resolve(__dirname, 'bare-routes.js'), dir]));
    for (const s of [express, fastify, expressSubset]) for (const line of await compat(s, token)) console.log(`COMPAT ${s.name}: ${line}`);

    const scenarios = [
      { name: 'GET (guard, pipes, interceptors, JSON from memory)', opts: { headers, requests: [{ method: 'GET', path: getPath }] } },
      { name: 'POST (RecordEventDto validated, no database)', opts: { headers: postHeaders, requests: [{ method: 'POST', path: postPath, body: postBody }] } },
    ];
    if (WARMUP > 0) for (const sc of scenarios) for (const s of servers) await load('warm-up', s, { ...sc.opts, seconds: WARMUP, connections: CONNECTIONS });
    const rows: (LoadRow & { server: string; round: number; scenarioName: string })[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const sc of scenarios) {
        // The order turns each round: none of the servers always comes right after the same other's load.
        const order = servers.map((_, i) => servers[(i + round) % servers.length]);
        for (const s of order) {
          const row = await load(`${sc.name}, ${s.name}, round ${round + 1}`, s, { ...sc.opts, seconds: SECONDS, connections: CONNECTIONS });
          rows.push({ ...row, server: s.name, round, scenarioName: sc.name });
          console.log(`${row.scenario}: ${row.rps} req/s, ${row.cpuMsPerRequest} ms CPU/request, p99 ${row.p99} ms, non-2xx ${row.non2xx} (load ${loadavg()[0].toFixed(1)})`);
        }
      }
    }

    console.log(`\n${ROUNDS} rounds, ${SECONDS} s per load, ${CONNECTIONS} connections, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
    console.log('| scenario | server | round | requests | req/s | p50 ms | p99 ms | server CPU ms/request | of which system | non-2xx |');
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.scenarioName} | ${r.server} | ${r.round + 1} | ${r.requests} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.cpuMsPerRequest} | ${r.sysMsPerRequest} | ${r.non2xx} |`);
    const failed = rows.filter((r) => r.non2xx > 0 || r.requests === 0);
    if (failed.length) throw new Error(`loads with failed requests: ${failed.map((r) => `${r.scenario} (${r.non2xx})`).join(', ')}`);

    console.log('\nmedian over rounds | server | CPU ms/request | req/s | CPU vs bare | req/s vs bare');
    const results: { benchmark: string; value: number; baseline: number; unit: string; better: 'lower' | 'higher' }[] = [];
    for (const sc of scenarios) {
      const of = (server: string) => rows.filter((r) => r.scenarioName === sc.name && r.server === server);
      const cpu = (server: string) => median(of(server).map((r) => r.cpuMsPerRequest));
      const rps = (server: string) => median(of(server).map((r) => r.rps));
      for (const server of ['express', 'fastify', 'express-subset', 'bare']) {
        console.log(`${sc.name} | ${server} | ${cpu(server)} | ${rps(server)} | ${r3(cpu('bare') / cpu(server))} | ${r3(rps(server) / rps('bare'))}`);
      }
      for (const server of ['express', 'fastify', 'express-subset']) {
        results.push({ benchmark: `${sc.name}, ${server}, server CPU per request vs bare http`, value: cpu(server), baseline: cpu('bare'), unit: 'ms CPU', better: 'lower' });
        results.push({ benchmark: `${sc.name}, ${server}, req/s vs bare http`, value: rps(server), baseline: rps('bare'), unit: 'req/s', better: 'higher' });
      }
      results.push({ benchmark: `${sc.name}, fastify CPU per request vs express`, value: cpu('fastify'), baseline: cpu('express'), unit: 'ms CPU', better: 'lower' });
      results.push({ benchmark: `${sc.name}, fastify CPU per request vs express with the same pieces`, value: cpu('fastify'), baseline: cpu('express-subset'), unit: 'ms CPU', better: 'lower' });
    }
    for (const r of results) console.log(`BENCH_RESULT ${JSON.stringify(r)}`);
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[3] === 'serve') {
  serve(process.argv[4] as Adapter, Number(process.argv[5])).catch((err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
