import type { BizStep, Disposition } from './cbv';
import { movementRefusal, type BatchStatus, type Refusal } from './custody';

/**
 * One organisation's part of a batch: what it has received and still holds,
 * what is on its way to it, and everything it was ever given (produced for it,
 * or shipped to it, less shipments voided): a recall compares two readings of
 * it to tell what an organisation was given after the recall started.
 */
export interface Holding {
  orgId: string;
  quantity: number;
  inTransit: number;
  received: number;
}

/** Steps that take goods out of the supply chain from the caller's holding. */
export const TAKING_STEPS: readonly BizStep[] = ['destroying', 'dispensing', 'retail_selling', 'transforming'];

export interface Movement {
  bizStep: BizStep;
  disposition?: Disposition;
  actorOrgId: string;
  toOrgId?: string;
  /** What the event moves or takes; absent: everything the actor holds (or, receiving, all in transit to it). */
  quantity?: number;
  /**
   * Organisations the actor's part of the batch came from (who shipped it to
   * the actor, and so on up to the producer): where a recalled batch may be
   * returned to.
   */
  cameFrom?: readonly string[];
  /** What is in transit from the actor to `toOrgId` (void_shipping gives it back). */
  voidable?: number;
}

/** What a movement does to the holdings of a batch. */
export interface MovementResult {
  /** The holdings it changed, as they are after it (new organisations included). */
  changed: Holding[];
  /** How much the event moved, took or received. */
  moved: number;
  /** Taken out of the supply chain (consumed, destroyed, sold, dispensed). */
  taken: number;
  /** Receiving less than was in transit: the difference is lost on the way. */
  shortage: number;
  /** What the batch holds everywhere after the event (held + in transit). */
  remaining: number;
  status: BatchStatus;
}

const TERMINAL: BatchStatus[] = ['destroyed', 'dispensed'];

const insufficient = (held: number, asked: number, what = 'holds'): Refusal => ({
  status: 409,
  rule: 'insufficient-quantity',
  message: `Your organisation ${what} ${held} of this batch; ${asked} cannot be taken from it`,
});

/**
 * The custody rule of a batch held in parts by several organisations: an
 * organisation writes events on the batch while it holds some of it;
 * shipping sends part of its holding (all when no quantity is given) into
 * transit to the receiver; receiving takes what is in transit to the
 * receiver (less than that is a shortage); destroying, dispensing, selling
 * and transformation inputs take from the caller's holding; taking more than
 * held is 409 `insufficient-quantity`. Held, recalled or finished batches do
 * not move, except that a recalled batch may be shipped back (disposition
 * `returned`) to an organisation it came from, or destroyed.
 *
 * Pure: the caller reads the holdings with the batch row locked and writes
 * back `changed` in the same transaction, which is what keeps concurrent
 * movements from over-drawing a holding.
 */
export function applyMovement(status: BatchStatus, holdings: readonly Holding[], e: Movement): Refusal | MovementResult {
  const find = (orgId: string): Holding => {
    const h = holdings.find((x) => x.orgId === orgId);
    return h ? { ...h } : { orgId, quantity: 0, inTransit: 0, received: 0 };
  };
  const remainingOf = (changed: Holding[]) =>
    holdings.filter((h) => !changed.some((c) => c.orgId === h.orgId)).reduce((s, h) => s + h.quantity + h.inTransit, 0) +
    changed.reduce((s, h) => s + h.quantity + h.inTransit, 0);
  if (e.quantity !== undefined && !(e.quantity > 0 && Number.isFinite(e.quantity))) {
    return { status: 422, rule: 'quantity', message: 'A quantity moved or taken must be positive' };
  }
  const actor = find(e.actorOrgId);
  if (TERMINAL.includes(status)) {
    return { status: 409, rule: `batch-${status}`, message: `The batch is ${status}: its chain is closed` };
  }

  if (e.bizStep === 'receiving') {
    if (actor.inTransit <= 0) {
      return holdings.some((h) => h.inTransit > 0)
        ? { status: 403, rule: 'not-the-receiver', message: 'Nothing of this batch is in transit to your organisation' }
        : { status: 409, rule: 'not-in-transit', message: 'Nothing of this batch is in transit: nothing to receive' };
    }
    const q = e.quantity ?? actor.inTransit;
    if (q > actor.inTransit) return insufficient(actor.inTransit, q, 'has in transit');
    const shortage = actor.inTransit - q;
    actor.quantity += q;
    actor.inTransit = 0;
    return { changed: [actor], moved: q, taken: 0, shortage, remaining: remainingOf([actor]), status };
  }

  if (e.bizStep === 'void_shipping') {
    if (!e.toOrgId || !(e.voidable && e.voidable > 0)) {
      return { status: 409, rule: 'not-in-transit', message: 'Your organisation has no shipment of this batch in transit to void' };
    }
    const to = find(e.toOrgId);
    to.inTransit -= e.voidable;
    to.received -= e.voidable;
    actor.quantity += e.voidable;
    return { changed: [actor, to], moved: e.voidable, taken: 0, shortage: 0, remaining: remainingOf([actor, to]), status };
  }

  const moving = e.bizStep === 'shipping' || (TAKING_STEPS as string[]).includes(e.bizStep);
  if (actor.quantity <= 0) {
    // An organisation that had some and has none left asks for more than it holds; one that never had any is no holder.
    if (moving && actor.received > 0) return insufficient(0, e.quantity ?? 0);
    return { status: 403, rule: 'not-the-holder', message: 'Your organisation holds none of this batch: only a holder records its events' };
  }
  const returning = e.bizStep === 'shipping' && e.disposition === 'returned' && !!e.toOrgId && (e.cameFrom ?? []).includes(e.toOrgId);
  if (!(status === 'recalled' && returning)) {
    const blocked = movementRefusal(status, e.bizStep);
    if (blocked) {
      return status === 'recalled' && e.bizStep === 'shipping'
        ? { ...blocked, message: `${blocked.message}: it may only be returned (disposition "returned") to an organisation it came from, or destroyed` }
        : blocked;
    }
  }

  if (e.bizStep === 'shipping') {
    if (!e.toOrgId) return { status: 422, rule: 'shipping-receiver', message: 'Shipping must name the receiving organisation (toOrgId)' };
    if (e.toOrgId === e.actorOrgId) return { status: 422, rule: 'shipping-receiver', message: 'An organisation does not ship to itself' };
    const q = e.quantity ?? actor.quantity;
    if (q > actor.quantity) return insufficient(actor.quantity, q);
    const to = find(e.toOrgId);
    actor.quantity -= q;
    to.inTransit += q;
    to.received += q;
    return { changed: [actor, to], moved: q, taken: 0, shortage: 0, remaining: remainingOf([actor, to]), status };
  }

  if ((TAKING_STEPS as string[]).includes(e.bizStep)) {
    const q = e.quantity ?? actor.quantity;
    if (q > actor.quantity) return insufficient(actor.quantity, q);
    actor.quantity -= q;
    const remaining = remainingOf([actor]);
    return { changed: [actor], moved: q, taken: q, shortage: 0, remaining, status: statusWhenTaken(status, e, remaining) };
  }

  // Any other step (storing, inspecting, packing…) moves nothing.
  return { changed: [], moved: 0, taken: 0, shortage: 0, remaining: remainingOf([]), status: statusOfDisposition(status, e.disposition) };
}

/** The batch is finished only when nothing of it is left anywhere; a part destroyed or dispensed leaves the rest as it was. */
function statusWhenTaken(status: BatchStatus, e: Movement, remaining: number): BatchStatus {
  if (remaining > 0) return status;
  if (e.bizStep === 'destroying' || e.disposition === 'destroyed') return 'destroyed';
  if (e.bizStep === 'dispensing' || e.disposition === 'dispensed') return 'dispensed';
  return status;
}

function statusOfDisposition(status: BatchStatus, d: Disposition | undefined): BatchStatus {
  return d === 'recalled' ? 'recalled' : status;
}

/**
 * Mass balance: what all holders hold and have in transit, plus what was
 * taken out of the supply chain or lost on the way, never exceeds what was
 * produced. A refusal when it would.
 */
export function massBalanceRefusal(produced: number, holdings: readonly Holding[], gone: number): Refusal | undefined {
  const held = holdings.reduce((s, h) => s + h.quantity + h.inTransit, 0);
  if (holdings.some((h) => h.quantity < 0 || h.inTransit < 0) || held + gone > produced + 1e-9) {
    return { status: 409, rule: 'mass-balance', message: `Holdings (${held}) and what left the chain (${gone}) would exceed the ${produced} produced` };
  }
  return undefined;
}

/** The holdings after a movement: the batch's list with the changed ones replaced or added, in organisation order. */
export function holdingsAfter(before: readonly Holding[], changed: readonly Holding[]): Holding[] {
  const byOrg = new Map(before.map((h) => [h.orgId, h]));
  for (const h of changed) byOrg.set(h.orgId, h);
  return [...byOrg.values()].sort((a, b) => (a.orgId < b.orgId ? -1 : a.orgId > b.orgId ? 1 : 0));
}

/**
 * The organisations holding part of a batch now: something received and
 * still held, or something on its way to them (a shipment counts with its
 * receiver from the moment it is sent). Who is told when the batch is held.
 */
export function currentHolders(holdings: readonly Pick<Holding, 'orgId' | 'quantity' | 'inTransit'>[]): string[] {
  return holdings.filter((h) => h.quantity > 0 || h.inTransit > 0).map((h) => h.orgId);
}

/**
 * The organisations a holder's part of a batch came from: whoever shipped
 * it to the holder, and who shipped to them, up to the producer.
 */
export function upstreamOf(orgId: string, shipments: readonly { fromOrgId: string; toOrgId: string }[]): string[] {
  const seen = new Set<string>();
  const todo = [orgId];
  while (todo.length > 0) {
    const at = todo.pop() as string;
    for (const s of shipments) {
      if (s.toOrgId === at && !seen.has(s.fromOrgId) && s.fromOrgId !== orgId) {
        seen.add(s.fromOrgId);
        todo.push(s.fromOrgId);
      }
    }
  }
  return [...seen];
}

/**
 * The ceiling of a recall acknowledgement by one organisation for one batch:
 * what it held and had in transit when the recall started, plus what it was
 * given since (a shipment in transit then is already counted; a return is not).
 */
export function acknowledgeable(atStart: Pick<Holding, 'quantity' | 'inTransit' | 'received'> | undefined, now: Pick<Holding, 'received'> | undefined): number {
  const start = atStart ?? { quantity: 0, inTransit: 0, received: 0 };
  const since = now ? Math.max(0, now.received - start.received) : 0;
  return start.quantity + start.inTransit + since;
}
