import { randomUUID } from 'node:crypto';
import { Controller, Get, Inject, Injectable, Optional, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { DataSource, type EntityManager } from 'typeorm';
import { ApiJsonResponse, CurrentPrincipal, DIRECTORY, type Directory, type Principal } from '@trace/platform';
import { BatchService, type DomainHooks } from '@trace/trace-service';
import { installationOf } from './material.rules';

/** Records the installation in the shipping event's transaction. */
export const materialHooks: DomainHooks = {
  async afterEvent(m: EntityManager, ctx, event) {
    const inst = installationOf(ctx, ctx.batch.quantity);
    if (!inst || !(inst.quantity > 0)) return;
    await m.query(
      `INSERT INTO installations (id, batch_id, site_location_id, site_org_id, quantity_value, quantity_unit, installed_at, event_id)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
      [
        randomUUID(),
        ctx.batch.id,
        inst.siteLocationId,
        ctx.event.toOrgId ?? null,
        inst.quantity,
        ctx.event.quantity?.unit ?? ctx.batch.quantityUnit ?? '',
        ctx.event.eventTime ? new Date(ctx.event.eventTime) : new Date(),
        event.id,
      ],
    );
  },
};

@Injectable()
export class InstallationService {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(BatchService) private readonly batches: BatchService,
    @Optional() @Inject(DIRECTORY) private readonly directory?: Directory,
  ) {}

  async forBatch(batchId: string, principal: Principal) {
    await this.batches.get(batchId, principal); // 404 for a batch the caller may not see
    const rows = await this.ds.query('SELECT * FROM installations WHERE batch_id = $1 ORDER BY installed_at, recorded_at', [batchId]);
    const installations = [];
    for (const r of rows) {
      const site = await this.directory?.location(r.site_location_id);
      installations.push({
        site: { locationId: r.site_location_id, orgId: r.site_org_id, name: site?.name ?? null, region: site?.region ?? null, address: site?.address ?? null },
        quantity: { value: Number(r.quantity_value), unit: r.quantity_unit },
        installedAt: (r.installed_at as Date).toISOString(),
        eventId: r.event_id,
      });
    }
    const total = installations.reduce((s, i) => s + i.quantity.value, 0);
    return { batchId, installations, sites: new Set(rows.map((r: { site_location_id: string }) => r.site_location_id)).size, totalInstalled: total };
  }
}

@ApiTags('material')
@ApiBearerAuth()
@Controller('v1/material/batches')
export class MaterialInstallationController {
  constructor(@Inject(InstallationService) private readonly installations: InstallationService) {}

  @Get(':id/installations')
  @ApiJsonResponse(200, '{ batchId, installations: [{ site, quantity, installedAt }], sites, totalInstalled }', {
    batchId: '263a28f8-4364-4c02-8793-f43a324e654f',
    installations: [
      {
        site: {
          locationId: '5b0f7c1e-2d3a-4e9b-8c61-7a2f4d9e0b13',
          orgId: '0e8d6c2a-91f4-4b7d-a3c5-6f2e1d9b8a70',
          name: 'Riverside Tower, block B',
          region: 'CN-32',
          address: '南京市鼓楼区 Gulou, Nanjing',
        },
        quantity: { value: 12, unit: 't' },
        installedAt: '2026-12-10T01:00:00.000Z',
        eventId: '7c3e9a1b-5d2f-4e8a-b6c4-1f0d9e2a3b57',
      },
    ],
    sites: 1,
    totalInstalled: 12,
  })
  list(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string, @CurrentPrincipal() principal: Principal) {
    return this.installations.forBatch(id, principal);
  }
}
