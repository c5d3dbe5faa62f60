/**
 * What services ask about organisations and locations, which the identity
 * part of the gateway owns. In embedded mode the gateway module provides an
 * in-process implementation; in distributed mode an HTTP client of the
 * gateway's internal endpoints (IDENTITY_URL) does, with a short cache.
 */
export const ORG_KINDS = [
  'producer',
  'processor',
  'distributor',
  'retailer',
  'construction_company',
  'pharmacy',
  'hospital',
  'inspection_agency',
  'regulator',
] as const;
export type OrgKind = (typeof ORG_KINDS)[number];

export const LOCATION_KINDS = ['farm', 'field', 'factory', 'warehouse', 'store', 'pharmacy', 'hospital', 'construction_site'] as const;
export type LocationKind = (typeof LOCATION_KINDS)[number];

export interface OrganisationInfo {
  id: string;
  name: string;
  kind: OrgKind;
  /** Its party GLN, when it was given one at creation (never changed: exported event hashes contain it); absent otherwise. */
  gln?: string;
}

export interface LocationInfo {
  id: string;
  orgId: string;
  name: string;
  kind: LocationKind;
  region?: string | null;
  address?: string | null;
  gln?: string | null;
}

export interface Directory {
  organisation(id: string): Promise<OrganisationInfo | undefined>;
  location(id: string): Promise<LocationInfo | undefined>;
  /** The organisation whose party GLN this is (capture reads a PGLN source/destination as ours by it). */
  organisationByGln(gln: string): Promise<OrganisationInfo | undefined>;
}

export const DIRECTORY = Symbol('DIRECTORY');
