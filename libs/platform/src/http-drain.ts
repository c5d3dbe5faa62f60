import { BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { LOGGER, type Logger } from './logging';

/** How long requests in flight may take to finish once shutdown began, before their connections are cut. */
export const HTTP_DRAIN_TIMEOUT_MS = 10_000;

/**
 * Lets the HTTP server close promptly on shutdown without cutting requests in
 * flight. Nest closes the server after the beforeApplicationShutdown hooks;
 * `server.close()` then waits for every open connection, and keep-alive
 * connections of busy clients (the gateway's proxy, other services) may never
 * go idle. So from here on every response says `Connection: close`, idle
 * connections are closed as they appear, and whatever is still open after
 * HTTP_DRAIN_TIMEOUT_MS is closed. PlatformModule is global, so this runs
 * after the services' own hooks (consumers already stopped).
 */
@Injectable()
export class HttpDrain implements BeforeApplicationShutdown {
  constructor(
    @Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  beforeApplicationShutdown(): void {
    const server = this.adapterHost?.httpAdapter?.getHttpServer?.() as Server | undefined;
    if (!server || typeof server.closeIdleConnections !== 'function' || !server.listening) return;
    server.prependListener('request', (_req, res) => {
      if (!res.headersSent) res.setHeader('Connection', 'close');
    });
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    const hard = setTimeout(() => {
      this.logger.warn({ timeoutMs: HTTP_DRAIN_TIMEOUT_MS }, 'HTTP requests still open at shutdown; closing their connections');
      server.closeAllConnections();
    }, HTTP_DRAIN_TIMEOUT_MS);
    idle.unref();
    hard.unref();
    server.once('close', () => {
      clearInterval(idle);
      clearTimeout(hard);
    });
  }
}
