import type { DataSource } from 'typeorm';
import type { IdentityClaims } from '@trace/contracts';
import type { Outbox } from '@trace/messaging';
import { batchKey } from '@trace/epcis';
import { DomainError, EventLoopSlices, pipelinedTransaction, sendDeferred, type Directory, type Principal } from '@trace/platform';
import type { DomainRules } from '@trace/trace-chain';
import type { DomainHooks } from '../batch.service';
import type { DomainName } from '../domains';
import { itemKey } from './carried-link';
import { ChunkWriter } from './chunk-writer';
import { claimCreated } from './claim-created';
import { CONCURRENT_CAPTURE, type ApplyRequest, type ApplyResult, type PlannedChainEvent } from './contract';
import { resolveReceivers } from './receivers';
import { storedAlready } from './stored-already';

/** What storing captured events works with: the domain's store, its rules, and its peers (directory, identity claims). */
export interface CaptureCore {
  domain: DomainName;
  dataSource: DataSource;
  outbox: Outbox;
  directory?: Directory;
  /** Where batches created from captured events claim their lot or serial across all domains (see identity.ts). */
  claims?: IdentityClaims;
  rules?: DomainRules;
  hooks?: DomainHooks;
}

/** Proceed mode commits in chunks: progress becomes visible and one bad event costs only its own savepoint. */
const CHUNK = 500;

class Rollback extends Error {}

/**
 * Stores captured events on this domain's chains (see ChunkWriter), in one
 * transaction (rollback, and every trial) or in chunks of their own (proceed).
 */
export async function applyCapture(core: CaptureCore, req: ApplyRequest, principal: Principal, onProgress?: (done: number) => void): Promise<ApplyResult> {
  const results: ApplyResult['results'] = [];
  // All or nothing: the claims are made once every event passed, so a refused document leaves none
  // (the capture may then skip the trial of a domain: see CaptureService).
  const { elsewhere: claimedElsewhere, claim } = await claimCreated(core.claims, core.domain, req.events, principal, {
    dryRun: req.dryRun,
    later: req.atomic,
  });
  const receivers = await resolveReceivers(core.directory, req.events);
  // One transaction over `events`, written chunk by chunk (progress after each). A refused event leaves
  // no trace (ChunkWriter.add checks first), so the others go on and every refusal is listed. A trial
  // writes nothing; in rollback mode nothing is kept once any event was refused.
  const runTx = async (events: PlannedChainEvent[], progress?: (done: number) => void) => {
    const out: ApplyResult['results'] = [];
    try {
      await pipelinedTransaction(core.dataSource, async (m) => {
        const writer = new ChunkWriter(core.domain, m, req, principal, claimedElsewhere, core.rules, core.hooks, receivers);
        // Every batch of the transaction locked up front, in id order: two captures touching the same
        // batches then queue rather than deadlock. With them, everything the events need is read here, once:
        // the batches that exist (the others are created by this writer, under ids the plan drew), their
        // holdings and shipments, the products, the rules' facts, and the links already stored on them (no other
        // writer can append to a batch this transaction holds). Nothing is read between the chunks.
        await writer.load(events);
        const chunks = Array.from({ length: Math.ceil(events.length / CHUNK) }, (_, k) => events.slice(k * CHUNK, (k + 1) * CHUNK));
        // Checking and chaining a chunk is synchronous work (about 0.1 ms an event) on the event loop every
        // service of the embedded app shares: in slices, so a scan does not wait behind a whole chunk.
        const slices = new EventLoopSlices();
        for (const chunk of chunks) {
          for (const ev of chunk) {
            if (slices.due()) await slices.yieldNow();
            try {
              const duplicate = await writer.add(ev);
              out.push({ index: ev.index, stored: !duplicate, ...(duplicate ? { duplicate } : {}) });
            } catch (err) {
              if (!(err instanceof DomainError)) throw err;
              out.push({ index: ev.index, stored: false, error: err.message });
            }
          }
          // The chunk's writes leave in one round trip, not waited for: PostgreSQL stores this chunk while the
          // next one is checked and chained, and nothing before the heads and the COMMIT waits for it (the
          // chunks read nothing: see load above; only a domain whose rules' facts cannot be read for many batches
          // at once, none today, would read them event by event). A failure among them fails the next statement
          // or the COMMIT.
          const doomed = req.atomic && out.some((r) => r.error);
          if (!req.dryRun && !doomed) {
            await writer.flush(core.outbox, { heads: !req.atomic, slices });
            sendDeferred(m);
          } else writer.discard();
          progress?.(out.length);
        }
        if (req.dryRun || (req.atomic && out.some((r) => r.error))) throw new Rollback();
        if (req.atomic) await writer.writeHeads();
        if (claim) {
          // Another domain claimed one of the items since they were looked up: its events are refused, as
          // they would have been had the claim come first.
          const taken = await claim();
          if (taken.size) {
            for (const ev of events) {
              const t = ev.targets.find((x) => x.create && taken.has(itemKey(x)));
              if (!t) continue;
              const r = out.find((x) => x.index === ev.index);
              if (r) Object.assign(r, { stored: false, error: `${batchKey(t.gtin, t.lot, t.instance)} is already registered in ${taken.get(itemKey(t))}` });
            }
            throw new Rollback();
          }
        }
      });
    } catch (err) {
      if (!(err instanceof Rollback)) throw err;
      if (!req.dryRun) for (const r of out) r.stored = false;
    }
    return out;
  };
  // An export or query answer captured again: what the chains hold already is a duplicate, not a new link.
  const already = await storedAlready(core.dataSource, core.directory, req.events);
  for (const index of already) results.push({ index, stored: false, duplicate: true });
  const events = already.size ? req.events.filter((e) => !already.has(e.index)) : req.events;
  if (req.atomic) {
    try {
      results.push(...(await runTx(events, req.dryRun ? undefined : onProgress)));
    } catch (err) {
      throw concurrentCapture(err) ?? err;
    }
  } else {
    for (let i = 0; i < events.length; i += CHUNK) {
      const chunk = events.slice(i, i + CHUNK);
      try {
        results.push(...(await runTx(chunk)));
      } catch (err) {
        // Another capture stored some of these events (or created their lots) meanwhile: what this one
        // planned is out of date, event by event too. The capture plans again (CaptureService).
        const concurrent = concurrentCapture(err);
        if (concurrent) throw concurrent;
        // Any other database error aborted the chunk: its events again, one per transaction, so that only
        // the failing one is lost.
        for (const ev of chunk) {
          try {
            results.push(...(await runTx([ev])));
          } catch (err) {
            results.push({ index: ev.index, stored: false, error: `could not be stored (${(err as { code?: string }).code ?? 'database error'})` });
          }
        }
      }
      onProgress?.(results.length);
    }
  }
  onProgress?.(results.length);
  return { results };
}

/**
 * A write refused because another transaction wrote the same thing first (a unique key: the same lot created,
 * the same event stored) or because two writers waited on each other: what another capture of the same events,
 * running at the same time, causes. As a DomainError, so that it reaches the capture service the same way from
 * a domain in this process and from one over HTTP.
 */
function concurrentCapture(err: unknown): DomainError | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (code !== '23505' && code !== '40P01' && code !== '40001') return undefined;
  // The slug written out, as every raised type is, for the error catalogue's check (problem-catalogue.int.ts).
  return new DomainError(409, 'concurrent-capture' satisfies typeof CONCURRENT_CAPTURE, 'Another capture stored some of the same events (or created their lots) at the same time');
}

