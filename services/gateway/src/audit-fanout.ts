import { Controller, Get, Inject, Module, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import {
  ApiList,
  AUDIT_LIST_EXAMPLE,
  AUDIT_LIST_FILTERS,
  AuditEntryDoc,
  AuditStore,
  auditPage,
  DomainError,
  mergeAuditPages,
  parseAuditQuery,
  RequestContext,
  Roles,
  type AuditEntry,
  type ListPage,
} from '@trace/platform';
import { ROUTES } from './proxy';

/** Every service the gateway forwards to (each keeps the audit log of the writes it answered). */
export function auditUpstreams(env: NodeJS.ProcessEnv): string[] {
  return [...new Set(ROUTES.map((r) => env[r.upstream]).filter((u): u is string => typeof u === 'string' && u !== ''))];
}

/**
 * GET /v1/audit in distributed mode: each service records its own writes in
 * its own table (libs/platform audit.ts), so the gateway asks every one of
 * them, and its own log, for the same page and merges them (mergeAuditPages).
 * A service that does not answer makes the answer a 503: an audit page with a
 * service's writes silently missing would be worse than none.
 */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('v1/audit')
export class GatewayAuditController {
  constructor(@Inject(AuditStore) private readonly store: AuditStore | null) {}

  @Get()
  @Roles('admin', 'regulator')
  @ApiList({
    item: AuditEntryDoc,
    example: AUDIT_LIST_EXAMPLE,
    description:
      'The audit log (admins and regulators): every write (POST, PUT, PATCH, DELETE) answered by any service of this deployment, ' +
      'refusals included, oldest first: who (clientId, orgId, role), what (method, route template, resourceId), when (at), ' +
      'correlationId and the answer\'s status. Append-only.',
    filters: AUDIT_LIST_FILTERS,
  })
  @ApiServiceUnavailableResponse({ description: 'audit-unavailable: a service did not answer for its part of the log' })
  async list(@Query() query: Record<string, unknown>, @Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<ListPage<AuditEntry>> {
    const { list } = parseAuditQuery(query); // a bad query is refused here, once
    const search = new URL(req.originalUrl, 'http://relative.invalid').search;
    const ask = async (base: string): Promise<ListPage<AuditEntry>> => {
      const r = await fetch(`${base}/v1/audit${search}`, {
        headers: { authorization: req.headers.authorization ?? '', 'x-correlation-id': RequestContext.correlationId(), accept: 'application/json' },
        signal: AbortSignal.timeout(10_000),
      }).catch(() => undefined);
      if (!r?.ok) throw new DomainError(503, 'audit-unavailable', `The service at ${new URL(base).host} did not answer for its part of the audit log; try again`);
      return (await r.json()) as ListPage<AuditEntry>;
    };
    const own = this.store ? auditPage(this.store, query) : Promise.resolve({ items: [], nextCursor: null });
    const page = mergeAuditPages(await Promise.all([own, ...auditUpstreams(process.env).map(ask)]), list.limit);
    if (page.nextCursor) {
      const next = new URL(req.originalUrl, 'http://relative.invalid');
      next.searchParams.set('cursor', page.nextCursor);
      res.setHeader('Link', `<${next.pathname}${next.search}>; rel="next"`);
    }
    return page;
  }
}

/** Distributed mode only (main.ts): embedded mode has one log and the platform's own GET /v1/audit. */
@Module({ controllers: [GatewayAuditController] })
export class GatewayAuditModule {}
