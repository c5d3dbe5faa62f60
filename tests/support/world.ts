import type { LocationKind, OrgKind } from '@trace/platform';
import type { Api } from './api';
import type { EmbeddedTestApp } from './embedded-app';

export interface TestOrg {
  id: string;
  /** An operator client of this organisation. */
  api: Api;
  /** Location ids by kind, all owned by this organisation. */
  locations: Partial<Record<LocationKind, string>>;
}

/**
 * Creates an organisation through the admin API and locations through its own
 * operator, the way a real deployment is set up, and returns a client for it.
 */
export async function anOrg(
  t: EmbeddedTestApp,
  name: string,
  kind: OrgKind = 'producer',
  locationKinds: LocationKind[] = ['farm'],
  opts: { gln?: string } = {},
): Promise<TestOrg> {
  const admin = t.as('platform', 'admin');
  const org = await admin.post('/v1/orgs', { name, kind, ...(opts.gln ? { gln: opts.gln } : {}) });
  if (org.status !== 201) throw new Error(`org: ${org.status} ${JSON.stringify(org.body)}`);
  const api = t.as(org.body.id, 'operator');
  const locations: TestOrg['locations'] = {};
  for (const lk of locationKinds) {
    const loc = await api.post('/v1/locations', { name: `${name} ${lk}`, kind: lk });
    if (loc.status !== 201) throw new Error(`location: ${loc.status} ${JSON.stringify(loc.body)}`);
    locations[lk] = loc.body.id;
  }
  return { id: org.body.id, api, locations };
}
