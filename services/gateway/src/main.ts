import 'reflect-metadata';
import { createHostApp } from '@trace/messaging';
import { createLogger, loadConfig, LookupRateLimiter, RequestBudgets } from '@trace/platform';
import { GatewayAuditModule } from './audit-fanout';
import { GatewayModule } from './gateway.module';
import { proxyMiddleware, proxyUpgrade, ROUTES } from './proxy';

async function main() {
  const logger = createLogger(process.env.LOG_LEVEL, { service: 'gateway' });
  let config;
  try {
    config = loadConfig(process.env, { RUN_MODE: 'distributed' });
    const missing = [...new Set(ROUTES.map((r) => r.upstream))].filter((k) => !process.env[k]);
    if (missing.length) throw new Error(`Invalid configuration:\n  - missing upstream URLs: ${missing.join(', ')}`);
  } catch (err) {
    logger.fatal((err as Error).message);
    process.exit(78);
  }
  // In front of the body parser and Nest's routes: forwarded requests pass through untouched.
  const app = await createHostApp({
    name: 'gateway',
    config,
    logger,
    modules: [GatewayModule, GatewayAuditModule],
    // Each service keeps the log of its own writes; the gateway answers GET /v1/audit from all of them.
    auditController: false,
    // Public look-ups are counted here, where the client's own address is known (Redis: shared by every gateway).
    preMiddleware: [
      proxyMiddleware(process.env, {
        lookups: new LookupRateLimiter(RequestBudgets.fromConfig(config, logger), config),
        trustProxyHops: config.TRUST_PROXY_HOPS,
      }),
    ],
  });
  // WebSocket handshakes (EPCIS subscriptions) bypass Express: forwarded to the owning service here.
  app.getHttpServer().on('upgrade', proxyUpgrade(process.env));
  await app.listen(config.PORT);
  logger.info({ port: config.PORT }, 'gateway listening');
}

void main();
