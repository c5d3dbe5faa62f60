import { EPCIS_CONTEXT, TRACE_NS, TRACE_NS_PREFIX, type EpcisEvent } from './types';
import { contextPrefixes, epcisEventHash } from './event-hash';

/**
 * The @context entries one captured event needs to mean what it meant: the remote contexts its
 * document named besides GS1's, and the prefix and term definitions (`{"ext1": "https://…/"}`) its
 * member names and values use. Kept with the event, so an answer mixing events of many documents
 * can declare each event's namespaces as they were captured. A JSON-LD context array.
 */
export type EventContext = (string | Record<string, unknown>)[];

/** An event as stored, with the context it was captured with (absent: recorded over REST, or captured before contexts were kept). */
export interface ContextualEvent {
  event: EpcisEvent;
  context?: EventContext | null;
}

const CURIE = /^([A-Za-z_][\w.-]*):/;

/** Prefixes and terms an event's member names (at any depth) and string values use. */
function namesUsed(event: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown) => {
    if (typeof v === 'string') {
      const m = CURIE.exec(v);
      if (m) out.add(m[1]);
      return;
    }
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k.startsWith('@')) continue;
      const m = CURIE.exec(k);
      out.add(m ? m[1] : k);
      walk(x);
    }
  };
  walk(event);
  return out;
}

const contextList = (c: unknown): unknown[] => (c === undefined || c === null ? [] : Array.isArray(c) ? c : [c]);

/** The contexts in force for an event: its document's, then its own `@context` (GS1's schema allows one on an event), which wins. */
export function contextsOf(event: EpcisEvent, documentContext: unknown): unknown[] {
  return [...contextList(documentContext), ...contextList(event['@context'])];
}

/**
 * The part of the @context in force for one event (its document's and its own) that it uses (see
 * EventContext); undefined when it uses nothing beyond GS1's context. Our own prefix (`trace`) is this
 * system's to declare: a document's binding of it is not kept (capture strips `trace:` members anyway).
 */
export function eventContext(event: EpcisEvent, documentContext: unknown): EventContext | undefined {
  const remote: string[] = [];
  const bindings: Record<string, unknown> = {};
  for (const c of contextsOf(event, documentContext)) {
    if (typeof c === 'string' && c !== EPCIS_CONTEXT && !remote.includes(c)) remote.push(c);
    else if (c && typeof c === 'object' && !Array.isArray(c)) Object.assign(bindings, c);
  }
  const used = namesUsed(event);
  const kept = Object.fromEntries(Object.entries(bindings).filter(([k, v]) => !k.startsWith('@') && k !== TRACE_NS_PREFIX && used.has(k) && v !== null));
  const out: EventContext = [...remote, ...(Object.keys(kept).length ? [kept] : [])];
  return out.length ? out : undefined;
}

/** Member names renamed deep in an event: `old:x` → `new:x` for a prefix, `old` → `new` for a term. */
function renameMembers(v: unknown, renames: Map<string, string>): unknown {
  if (Array.isArray(v)) return v.map((x) => renameMembers(x, renames));
  if (!v || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const m = CURIE.exec(k);
    const name = m ? (renames.has(m[1]) ? `${renames.get(m[1])}:${k.slice(m[0].length)}` : k) : (renames.get(k) ?? k);
    out[name] = renameMembers(x, renames);
  }
  return out;
}

/**
 * One @context for an answer holding events of many captured documents: GS1's, the remote contexts
 * they named, and one object binding every prefix and term the events use to the namespace it had
 * when captured (`trace` to ours). When two events bind one prefix to different namespaces, the later
 * one's prefix is renamed in this answer (`ext1` → `ext1-2`, the first free `-n`: GS1's JSON Schema takes member names as URIs, whose scheme (the prefix) has no `_`) and its member names
 * with it, so every name still expands to the IRI it was captured with — and so to the same CBV event
 * hash (which expands member names by namespace), which is what makes capturing the answer again a
 * no-op. Values are not rewritten: the event hash keeps a partner's CURIE values as written (as GS1's
 * reference does), and rewriting them would make the answer hash differently.
 */
export function answerContext(items: readonly ContextualEvent[]): { context: unknown[]; events: EpcisEvent[] } {
  const bound = new Map<string, string>([[TRACE_NS_PREFIX, JSON.stringify(TRACE_NS)]]);
  const definitions: Record<string, unknown> = { [TRACE_NS_PREFIX]: TRACE_NS };
  const remote: string[] = [];
  const events = items.map(({ event, context }) => {
    if (!context?.length) return event;
    const renames = new Map<string, string>();
    const own = new Set<string>();
    for (const c of context) if (c && typeof c === 'object') for (const k of Object.keys(c)) own.add(k);
    for (const c of context) {
      if (typeof c === 'string') {
        if (!remote.includes(c)) remote.push(c);
        continue;
      }
      for (const [name, definition] of Object.entries(c)) {
        const value = JSON.stringify(definition);
        // The first name free for this definition: unbound, or bound to the same one; a name the event
        // binds itself is not free for another of its prefixes.
        let target = name;
        for (let n = 2; (bound.has(target) && bound.get(target) !== value) || (target !== name && own.has(target)); n++) target = `${name}-${n}`;
        if (!bound.has(target)) {
          bound.set(target, value);
          definitions[target] = definition;
        }
        if (target !== name) renames.set(name, target);
      }
    }
    return renames.size ? (renameMembers(event, renames) as EpcisEvent) : event;
  });
  return { context: [EPCIS_CONTEXT, ...remote, definitions], events };
}

/**
 * Whether a captured event's stored @context (EventContext) still gives the CBV event hash it was
 * captured with. The context sits outside the link hash, but the event hash expands the event's names
 * by it, and that hash is inside the link: a namespace changed after capture (the names would mean
 * something else in every answer) no longer reproduces it.
 */
export function contextKeepsEventHash(event: EpcisEvent, context: EventContext, epcisHash: string): boolean {
  return epcisEventHash(event, contextPrefixes(context)) === epcisHash;
}
