import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { glnProblem } from '@trace/gs1';
import { isUuid } from '@trace/trace-chain';
import {
  badRequest,
  forbidden,
  PLATFORM_ORG_ID,
  type Directory,
  type LocationInfo,
  type LocationKind,
  notFound,
  type OrganisationInfo,
  type Principal,
  unprocessable,
} from '@trace/platform';
import { SHARED_BATCH_SQL } from './batch-parties';
import type { CreateLocationDto, LocationDto } from './dto';

export interface LocationRow {
  id: string;
  org_id: string;
  name: string;
  kind: LocationKind;
  region: string | null;
  address: string | null;
  gln: string | null;
  created_at: Date;
}

type OrgInfoRow = Omit<OrganisationInfo, 'gln'> & { gln: string | null };
const toOrgInfo = (row: OrgInfoRow): OrganisationInfo => ({ id: row.id, name: row.name, kind: row.kind, ...(row.gln ? { gln: row.gln } : {}) });

export const COLUMNS = 'id, org_id, name, kind, region, address, gln, created_at';

/**
 * Locations, and the process-wide Directory over the gateway's tables: what
 * the domain services ask when a request names a location or an organisation.
 * Malformed ids are "not found", never a database error.
 */
@Injectable()
export class LocationService implements Directory {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  async create(dto: CreateLocationDto, caller: Principal): Promise<LocationDto> {
    const glnRefusal = dto.gln === undefined ? undefined : glnProblem(dto.gln);
    if (glnRefusal) throw badRequest('gln', glnRefusal, [{ field: 'gln', message: glnRefusal }]);
    const orgId = this.ownerFor(dto, caller);
    const [org] = await this.ds.query('SELECT 1 FROM organisations WHERE id = $1 AND id <> $2', [orgId, PLATFORM_ORG_ID]);
    if (!org) {
      throw caller.role === 'admin'
        ? unprocessable('organisation', `No organisation ${orgId} to create a location for`)
        : unprocessable('organisation', `Your organisation ${caller.orgId} is not registered`);
    }
    const [row]: LocationRow[] = await this.ds.query(
      `INSERT INTO locations (id, org_id, name, kind, region, address, gln)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [randomUUID(), orgId, dto.name.trim(), dto.kind, dto.region ?? null, dto.address ?? null, dto.gln ?? null],
    );
    return toDto(row);
  }

  /**
   * An operator creates locations of its own organisation; an admin setting
   * up an organisation names it (`orgId`), since the admin's own is the
   * platform, which has no premises.
   */
  private ownerFor(dto: CreateLocationDto, caller: Principal): string {
    if (caller.role === 'admin') {
      if (!dto.orgId) {
        throw badRequest('validation', 'orgId: an admin names the organisation the location belongs to', [
          { field: 'orgId', message: 'orgId is required when an admin creates a location' },
        ]);
      }
      return dto.orgId;
    }
    if (dto.orgId !== undefined && dto.orgId !== caller.orgId) {
      throw forbidden('location-org', 'An operator creates locations of its own organisation only');
    }
    return caller.orgId;
  }

  /**
   * A location is for its organisation, that organisation's trading partners
   * on a shared batch, inspectors, regulators and admins; to anyone else it
   * does not exist (404, as for an unknown id).
   */
  async get(id: string, caller: Principal): Promise<LocationDto> {
    const row = await this.row(id);
    if (!row || !(await this.mayRead(row, caller))) throw notFound('location', `No location ${id}`);
    return toDto(row);
  }

  private async mayRead(row: LocationRow, caller: Principal): Promise<boolean> {
    if (caller.role !== 'operator' || caller.orgId === row.org_id) return true;
    const shared: unknown[] = await this.ds.query(SHARED_BATCH_SQL, [caller.orgId, row.org_id]);
    return shared.length > 0;
  }

  async location(id: string): Promise<LocationInfo | undefined> {
    const row = await this.row(id);
    return row ? toInfo(row) : undefined;
  }

  /** Supply-chain parties only: the built-in platform organisation is nobody's trading partner. */
  async organisation(id: string): Promise<OrganisationInfo | undefined> {
    if (typeof id !== 'string' || id.length === 0 || id.length > 200) return undefined;
    const [row]: OrgInfoRow[] = await this.ds.query(
      `SELECT id, name, kind, gln FROM organisations WHERE id = $1 AND kind <> 'platform'`,
      [id],
    );
    return row ? toOrgInfo(row) : undefined;
  }

  async organisationByGln(gln: string): Promise<OrganisationInfo | undefined> {
    if (typeof gln !== 'string' || !/^\d{13}$/.test(gln)) return undefined;
    const [row]: OrgInfoRow[] = await this.ds.query(`SELECT id, name, kind, gln FROM organisations WHERE gln = $1 AND kind <> 'platform'`, [gln]);
    return row ? toOrgInfo(row) : undefined;
  }

  private async row(id: string): Promise<LocationRow | undefined> {
    if (!isUuid(id)) return undefined;
    const [row]: LocationRow[] = await this.ds.query(`SELECT ${COLUMNS} FROM locations WHERE id = $1`, [id]);
    return row;
  }
}

function toInfo(row: LocationRow): LocationInfo {
  return { id: row.id, orgId: row.org_id, name: row.name, kind: row.kind, region: row.region, address: row.address, gln: row.gln };
}

export function toDto(row: LocationRow): LocationDto {
  return { ...toInfo(row), region: row.region, address: row.address, gln: row.gln, createdAt: row.created_at.toISOString() };
}
