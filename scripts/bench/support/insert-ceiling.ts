/**
 * The most an HTTP service can get out of this machine's database for one write, for write-path.ts: `POST /rows`
 * answers 201 `{ id }` after one autocommit INSERT of the row the benchmark's plain INSERT writes, and does nothing
 * else (no token, no validation, no hash, no outbox, no delivery).
 *
 *   CEILING=http  Node's bare `http` server
 *   CEILING=nest  a Nest app on Express as this project builds its apps' carrier (Nest's JSON body parser, one
 *                 controller) with no guard, pipe, interceptor or filter of its own
 *   TABLE (schema-qualified), DATABASE_URL, PORT; POOL (connections, default 16: one per client at c16)
 *
 * write-path.ts drives both exactly as it drives the app, each beside its own plain INSERT: their ratios are a
 * ceiling no route on this stack can pass on this machine, since every route does at least what they do.
 */
import 'reflect-metadata';
import { createServer } from 'node:http';
import { Body, Controller, Get, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Pool } from 'pg';

interface Row {
  batchId: string;
  kind: string;
  eventTime: string;
  content: unknown;
}

const table = process.env.TABLE;
const port = Number(process.env.PORT);
if (!table || !process.env.DATABASE_URL || !port) throw new Error('TABLE, DATABASE_URL and PORT are required');
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL ?? 16) });
const insert = `INSERT INTO ${table} (batch_id, kind, event_time, content) VALUES ($1, $2, $3, $4) RETURNING id`;

async function write(row: Row): Promise<{ id: string }> {
  const r = await pool.query<{ id: string }>(insert, [row.batchId, row.kind, row.eventTime, JSON.stringify(row.content)]);
  return { id: r.rows[0].id };
}

function bareHttp(): void {
  createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      write(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Row).then(
        (answer) => {
          const body = JSON.stringify(answer);
          res.writeHead(201, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
          res.end(body);
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(err.message);
        },
      );
    });
  }).listen(port, '127.0.0.1');
}

@Controller()
class CeilingController {
  @Get('health/ready')
  ready() {
    return { status: 'ok' };
  }

  @Post('rows')
  @HttpCode(201)
  rows(@Body() row: Row) {
    return write(row);
  }
}

@Module({ controllers: [CeilingController] })
class CeilingModule {}

async function nest(): Promise<void> {
  const app = await NestFactory.create(CeilingModule, { logger: ['error'] });
  await app.listen(port, '127.0.0.1');
}

if (process.env.CEILING === 'http') bareHttp();
else if (process.env.CEILING === 'nest') void nest();
else throw new Error('CEILING must be http or nest');
