import { locationKey, opaqueName, partyKey } from '@trace/epcis';
import type { Directory } from '@trace/platform';
import { isUuid } from '@trace/trace-chain';

/**
 * Who an EPCIS form is for. `partner`: exports, query answers, named-query runs, subscription
 * deliveries, and the CBV event hash stored with each REST-recorded link — no internal id of ours.
 * `internal`: the round trip (`?include=chain`), which names what has no GLN by `urn:uuid:<our id>`,
 * as capture reads it back.
 */
export type NameForm = 'partner' | 'internal';

/**
 * How a REST-recorded event names our organisations and locations. With a GLN, by the GS1 key in both
 * forms: a location by its SGLN, an organisation by its PGLN (Digital Links on id.gs1.org; GS1-EPC-Format
 * can turn them into EPC URNs). Without one, a partner gets a stable opaque URN (opaqueName) and the round
 * trip `urn:uuid:<id>`. GLNs are given at creation and never changed, so a name never changes either:
 * the stored event hashes contain them. `strict`: a directory that does not answer is an error (a hash to
 * store must not take a fallback by accident). Each answer is kept for the life of the instance.
 */
export class EpcisNames {
  private readonly known = new Map<string, string>();

  constructor(
    private readonly directory: Directory | undefined,
    readonly form: NameForm,
    private readonly strict = false,
  ) {}

  async location(id: string): Promise<string> {
    let name = this.known.get(`l:${id}`);
    if (name === undefined) {
      const loc = await this.ask(() => this.directory?.location(id));
      name = loc?.gln ? locationKey(loc.gln) : !isUuid(id) ? id : this.form === 'partner' ? opaqueName('location', id) : `urn:uuid:${id}`;
      this.known.set(`l:${id}`, name);
    }
    return name;
  }

  async party(orgId: string): Promise<string> {
    let name = this.known.get(`o:${orgId}`);
    if (name === undefined) {
      const org = await this.ask(() => this.directory?.organisation(orgId));
      name = org?.gln ? partyKey(org.gln) : this.form === 'partner' ? opaqueName('party', orgId) : `urn:uuid:${orgId}`;
      this.known.set(`o:${orgId}`, name);
    }
    return name;
  }

  private async ask<T>(question: () => Promise<T> | undefined): Promise<T | undefined> {
    try {
      return await question();
    } catch (err) {
      if (this.strict) throw err;
      return undefined;
    }
  }
}
