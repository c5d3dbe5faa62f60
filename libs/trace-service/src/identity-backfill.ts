import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { IDENTITY_CLAIMS, type IdentityClaims, type ItemKind } from '@trace/contracts';
import { LOGGER, type Logger } from '@trace/platform';

const CHUNK = 1000;

/**
 * Claims what a domain registered before identities were claimed across
 * domains: migration TraceChainItemKind1765000200000 copied every product's
 * GTIN and every batch's lot or serial into `unclaimed_identities`; this
 * drains that table into the identity service once, in the background after
 * start-up, retrying while the gateway does not answer (distributed mode).
 * Until an item is drained the scan does not find it. Where two domains held
 * the same lot before (the case the claims now prevent), the first to drain
 * keeps it and the other is logged, for someone to look at.
 */
@Injectable()
export class IdentityBackfill implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    @Inject('DOMAIN_NAME') private readonly domain: string,
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(LOGGER) private readonly log: Logger,
    @Optional() @Inject(IDENTITY_CLAIMS) private readonly claims?: IdentityClaims,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.claims) return;
    this.running = this.untilDrained();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** Claims every row left; answers how many were drained. */
  async drain(): Promise<number> {
    if (!this.claims) return 0;
    let drained = 0;
    for (;;) {
      const rows = (await this.ds.query('SELECT gtin, kind, value, org_id FROM unclaimed_identities ORDER BY gtin, kind, value LIMIT $1', [CHUNK])) as {
        gtin: string;
        kind: 'gtin' | ItemKind;
        value: string;
        org_id: string;
      }[];
      if (rows.length === 0 || this.stopped) return drained;
      for (const r of rows.filter((x) => x.kind === 'gtin')) {
        const answer = await this.claims.claimGtin({ gtin: r.gtin, orgId: r.org_id, domain: this.domain });
        if (!answer.granted) this.log.warn({ gtin: r.gtin, orgId: r.org_id, heldIn: answer.domain }, `${this.domain}: GTIN ${r.gtin} registered here before claims belongs to another organisation`);
      }
      const items = rows.filter((x) => x.kind !== 'gtin');
      const answers = await this.claims.claimItems(items.map((r) => ({ gtin: r.gtin, kind: r.kind as ItemKind, value: r.value, domain: this.domain, orgId: r.org_id })));
      answers.forEach((a, n) => {
        if (!a.granted) this.log.warn({ gtin: items[n].gtin, [items[n].kind]: items[n].value, heldIn: a.domain }, `${this.domain}: a ${items[n].kind} registered here before claims is held by ${a.domain}`);
      });
      await this.ds.query(
        `DELETE FROM unclaimed_identities u USING jsonb_to_recordset($1::jsonb) AS x(gtin text, kind text, value text)
          WHERE u.gtin = x.gtin AND u.kind = x.kind AND u.value = x.value`,
        [JSON.stringify(rows.map((r) => ({ gtin: r.gtin, kind: r.kind, value: r.value })))],
      );
      drained += rows.length;
    }
  }

  private async untilDrained(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        const n = await this.drain();
        if (n > 0) this.log.info({ domain: this.domain, claimed: n }, 'identities registered before claims are claimed');
        return;
      } catch (err) {
        if (this.stopped) return;
        this.log.warn({ err, attempt }, `${this.domain}: claiming identities registered before claims failed; retrying`);
        const until = Date.now() + Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
        while (!this.stopped && Date.now() < until) await new Promise((r) => setTimeout(r, 200).unref());
      }
    }
  }
}
