import type { Directory, LocationInfo, OrganisationInfo } from '@trace/platform';

/**
 * The directory as the write paths ask it: organisations and locations are
 * never changed or deleted once created (no UPDATE or DELETE of either
 * exists), so a found answer is kept for the life of the process and every
 * event or registration after the first with a location asks no one. "Not
 * found" is not kept: a location created a moment ago must be found. Bounded,
 * oldest out first.
 */
export class CachedDirectory implements Directory {
  private readonly found = new Map<string, OrganisationInfo | LocationInfo>();

  constructor(
    private readonly inner: Directory,
    private readonly maxEntries = 10_000,
  ) {}

  organisation(id: string): Promise<OrganisationInfo | undefined> {
    return this.lookup(`o:${id}`, () => this.inner.organisation(id)) as Promise<OrganisationInfo | undefined>;
  }

  location(id: string): Promise<LocationInfo | undefined> {
    return this.lookup(`l:${id}`, () => this.inner.location(id)) as Promise<LocationInfo | undefined>;
  }

  organisationByGln(gln: string): Promise<OrganisationInfo | undefined> {
    return this.lookup(`g:${gln}`, () => this.inner.organisationByGln(gln)) as Promise<OrganisationInfo | undefined>;
  }

  private async lookup(key: string, ask: () => Promise<OrganisationInfo | LocationInfo | undefined>) {
    const hit = this.found.get(key);
    if (hit) return hit;
    const value = await ask();
    if (value) {
      if (this.found.size >= this.maxEntries) this.found.delete(this.found.keys().next().value as string);
      this.found.set(key, value);
    }
    return value;
  }
}
