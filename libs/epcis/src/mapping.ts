import { batchKey, parseObjectId, type ObjectRef } from './identifiers';
import { answerContext, type ContextualEvent } from './namespaces';
import { TRACE_NS, TRACE_NS_PREFIX, type EpcisDocument, type EpcisEvent, type QuantityElement } from './types';

/** Where an object stands in an event: what the chain event on its batch records. */
export type ObjectRole = 'object' | 'parent' | 'child' | 'input' | 'output';

export interface EventObject {
  role: ObjectRole;
  ref: ObjectRef;
  /** Class-level objects: the quantity the event names (uom omitted = a count of items). */
  quantity?: { value: number; unit: string };
}

/** Unit of a quantity element without `uom`: a count of instances (UN/CEFACT "EA", each). */
export const COUNT_UNIT = 'EA';

/** Every object an event names, by role, in document order. */
export function eventObjects(e: EpcisEvent): EventObject[] {
  const out: EventObject[] = [];
  const epcs = (role: ObjectRole, list?: string[]) => list?.forEach((id) => out.push({ role, ref: parseObjectId(id) }));
  const qty = (role: ObjectRole, list?: QuantityElement[]) =>
    list?.forEach((q) =>
      out.push({
        role,
        ref: parseObjectId(q.epcClass),
        quantity: q.quantity !== undefined ? { value: q.quantity, unit: q.uom ?? COUNT_UNIT } : undefined,
      }),
    );
  if (e.parentID) out.push({ role: 'parent', ref: parseObjectId(e.parentID) });
  epcs('object', e.epcList);
  qty('object', e.quantityList);
  epcs('child', e.childEPCs);
  qty('child', e.childQuantityList);
  epcs('input', e.inputEPCList);
  qty('input', e.inputQuantityList);
  epcs('output', e.outputEPCList);
  qty('output', e.outputQuantityList);
  return out;
}

/** Every object key of an event (the query's MATCH_ parameters compare these). */
export const eventKeys = (e: EpcisEvent) => [...new Set(eventObjects(e).map((o) => o.ref.key))];

/**
 * CBV values are stored by their short name on the chain (`shipping`), whatever
 * form the document used (bare, `urn:epcglobal:cbv:bizstep:…`, or the
 * `https://ref.gs1.org/cbv/BizStep-…` Web URI); other vocabularies stay as given.
 */
export function cbvName(value: string | undefined, kind: 'bizstep' | 'disp'): string | undefined {
  if (value === undefined) return undefined;
  const urn = CBV_URN[kind].exec(value);
  if (urn) return urn[1];
  const web = CBV_WEB[kind].exec(value);
  if (web) return web[1];
  return value;
}

// Built once: cbvName runs for every captured event.
const CBV_URN = { bizstep: /^urn:epcglobal:cbv:bizstep:(.+)$/, disp: /^urn:epcglobal:cbv:disp:(.+)$/ };
const cbvWeb = (name: string) => new RegExp(`^(?:https?://(?:ref\\.gs1\\.org/cbv|gs1\\.org/voc)/|${TRACE_NS.replace(/\./g, '\\.')})${name}-(.+)$`, 'i');
const CBV_WEB = { bizstep: cbvWeb('BizStep'), disp: cbvWeb('Disp') };

/**
 * Units of our REST API (free text such as "kg") as UN/ECE Recommendation 20
 * codes, which EPCIS requires for `uom`; a unit without a code here is left
 * out of the quantity element (the exported link keeps it: see CarriedLink).
 */
const UNECE: Record<string, string> = {
  kg: 'KGM', g: 'GRM', mg: 'MGM', t: 'TNE', l: 'LTR', ml: 'MLT', m: 'MTR', m2: 'MTK', m3: 'MTQ', km: 'KMT', cm: 'CMT', mm: 'MMT',
  pcs: 'H87', piece: 'H87', pieces: 'H87', box: 'BX', bag: 'BG', bottle: 'BO', jar: 'JR', carton: 'CT', pallet: 'PX', dose: 'DD', roll: 'RO',
  cel: 'CEL', celsius: 'CEL', percent: 'P1', '%': 'P1',
};
export const uneceUnit = (unit: string): string | undefined => (/^[A-Z0-9]{2,3}$/.test(unit) ? unit : UNECE[unit.toLowerCase()]);

/**
 * CBV 2.0 bizSteps the EPCIS schema lists; any other name of ours (e.g.
 * `transforming`) goes out as a URI in our namespace and comes back by name.
 */
const SCHEMA_BIZSTEPS = new Set([
  'accepting', 'arriving', 'assembling', 'collecting', 'commissioning', 'consigning', 'creating_class_instance', 'cycle_counting', 'decommissioning',
  'departing', 'destroying', 'disassembling', 'dispensing', 'encoding', 'entering_exiting', 'holding', 'inspecting', 'installing', 'killing', 'loading',
  'other', 'packing', 'picking', 'receiving', 'removing', 'repackaging', 'repairing', 'replacing', 'reserving', 'retail_selling', 'shipping',
  'staging_outbound', 'stock_taking', 'stocking', 'storing', 'transporting', 'unloading', 'unpacking', 'void_shipping', 'sensor_reporting', 'sampling',
]);
export const bizStepOut = (name: string) => (SCHEMA_BIZSTEPS.has(name) || /:/.test(name) ? name : `${TRACE_NS}BizStep-${name}`);

/** bizTransactions as the chain's `documents` (what the REST API records): type by CBV short name. */
export function documentsOf(e: EpcisEvent): { type: string; id: string }[] | undefined {
  const list = e.bizTransactionList;
  if (!list?.length) return undefined;
  const btt = (t: string) => t.replace(/^urn:epcglobal:cbv:btt:/, '').replace(/^https?:\/\/ref\.gs1\.org\/cbv\/BTT-/, '');
  return list.map((b) => ({ type: b.type ? btt(b.type) : 'other', id: b.bizTransaction }));
}

/** Numeric sensor readings as the chain's `sensors` (type, value, unit, time); the full sensorElementList stays in the event. */
export function sensorsOf(e: EpcisEvent): { type: string; value: number; unit: string; time: string }[] | undefined {
  const out: { type: string; value: number; unit: string; time: string }[] = [];
  for (const element of (e.sensorElementList ?? []) as { sensorMetadata?: { time?: string }; sensorReport?: Record<string, unknown>[] }[]) {
    for (const r of element.sensorReport ?? []) {
      const value = r.value ?? r.meanValue ?? r.maxValue ?? r.minValue;
      if (typeof value !== 'number') continue;
      out.push({
        type: String(r.type ?? 'unknown').replace(/^gs1:/, ''),
        value,
        unit: typeof r.uom === 'string' ? r.uom : '',
        time: (r.time as string | undefined) ?? element.sensorMetadata?.time ?? e.eventTime,
      });
    }
  }
  return out.length ? out : undefined;
}

/** Our extension keys (`trace:…`) are transport, not content: the event hash leaves them out. */
export const isTraceExtension = (key: string) => key.startsWith(`${TRACE_NS_PREFIX}:`);

export function stripTraceExtensions(e: EpcisEvent): EpcisEvent {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) if (!isTraceExtension(k)) out[k] = v;
  return out as EpcisEvent;
}

/** A chain link as an export carries it, so a fresh system can store the very same link. */
export interface CarriedLink {
  domain: string;
  gtin: string;
  /** The lot, or the serial when `kind` is `serial` (absent in links exported before kinds: a lot or a serial by the object). */
  lot: string;
  kind?: 'lot' | 'serial';
  seq: number;
  prevHash: string;
  hash: string;
  content: Record<string, unknown>;
  /** The link's hash rule (absent: 1, content only); a v2 hash also covers `shown`, stored as carried. */
  hashVersion?: 1 | 2;
  shown?: { bizStep: string; disposition: string | null; eventTime: string; eventTimeOffset?: string | null; orgId: string; statusAfter?: string | null };
}

export const CARRIED_LINK_KEY = `${TRACE_NS_PREFIX}:chain`;
export const DOMAIN_HINT_KEY = `${TRACE_NS_PREFIX}:domain`;

/** A chain event recorded through our REST API, as the mapping to EPCIS needs it. */
export interface NativeChainEvent {
  id: string;
  seq: number;
  bizStep: string;
  disposition: string | null;
  eventTime: string;
  /** The offset the event time was written in (absent: UTC). */
  eventTimeZoneOffset?: string;
  recordTime: string;
  content: Record<string, unknown>;
  batch: { gtin: string; lot: string; instance: boolean };
  /** The location as an EPCIS location id (an SGLN Digital Link when it has a GLN, else what the export form names it by). */
  locationUri: string;
  /**
   * A movement's parties as EPCIS ids, when the content names a receiver (`toOrgId`): the shipper (the
   * organisation the event was recorded for) and the receiver, each a PGLN Digital Link when the
   * organisation has a GLN, else what the export form names it by (see EpcisNames).
   */
  parties?: { source?: string; destination: string };
}


/**
 * A REST-recorded chain event as an EPCIS event: the batch's first event is an
 * ObjectEvent ADD (commissioning), a transformation's first event a
 * TransformationEvent with its inputs, every other an ObjectEvent OBSERVE.
 * Documents become bizTransactions, sensor readings a sensorElementList.
 */
export function nativeToEpcis(n: NativeChainEvent): EpcisEvent {
  const c = n.content;
  const self = batchKey(n.batch.gtin, n.batch.lot, n.batch.instance);
  const quantity = c.quantity as { value: number; unit: string } | undefined;
  const element = (key: string, q?: { value: number; unit: string }): QuantityElement => {
    const uom = q && q.unit !== COUNT_UNIT ? uneceUnit(q.unit) : undefined;
    return { epcClass: key, ...(q ? { quantity: q.value, ...(uom ? { uom } : {}) } : {}) };
  };
  const what = n.batch.instance ? { epcList: [self] } : { quantityList: [element(self, quantity)] };
  const inputs = c.inputs as { gtin: string; lot: string; quantity: { value: number; unit: string } }[] | undefined;
  const documents = c.documents as { type: string; id: string }[] | undefined;
  const sensors = c.sensors as { type: string; value: number; unit: string; time: string }[] | undefined;
  const parties = movementParties(n.parties);
  const base = {
    eventID: `urn:uuid:${n.id}`,
    eventTime: n.eventTime,
    eventTimeZoneOffset: n.eventTimeZoneOffset ?? '+00:00',
    recordTime: n.recordTime,
  };
  const why = {
    bizStep: bizStepOut(n.bizStep),
    ...(n.disposition ? { disposition: n.disposition } : {}),
    readPoint: { id: n.locationUri },
    bizLocation: { id: n.locationUri },
    ...(documents?.length
      ? { bizTransactionList: documents.map((d) => ({ type: BTT.has(d.type) ? d.type : `${TRACE_NS}BTT-${encodeURIComponent(d.type)}`, bizTransaction: `urn:trace:doc:${encodeURIComponent(d.type)}:${encodeURIComponent(d.id)}` })) }
      : {}),
    ...parties,
    ...(sensors?.length
      ? {
          sensorElementList: [
            {
              sensorReport: sensors.map((s) => {
                const uom = uneceUnit(s.unit);
                return { type: `${TRACE_NS}sensor/${encodeURIComponent(s.type)}`, value: s.value, ...(uom ? { uom } : {}), time: s.time };
              }),
            },
          ],
        }
      : {}),
  };
  if (inputs?.length) {
    return {
      type: 'TransformationEvent',
      ...base,
      inputQuantityList: inputs.map((i) => element(batchKey(i.gtin, i.lot), i.quantity)),
      outputQuantityList: [element(self, quantity)],
      ...why,
    } as EpcisEvent;
  }
  return { type: 'ObjectEvent', ...base, ...what, action: n.seq === 1 ? 'ADD' : 'OBSERVE', ...why } as EpcisEvent;
}

/**
 * A shipment's parties (CBV source/destination types): the shipper as source, the receiver as
 * destination, each as possessing and owning party. Capture reads this destinationList as the receiver
 * (a PGLN of one of our organisations, or `urn:uuid:<organisation id>`), so an exported shipping captured
 * again still names who it went to.
 */
function movementParties(parties: NativeChainEvent['parties']): Pick<EpcisEvent, 'sourceList' | 'destinationList'> {
  if (!parties) return {};
  const types = ['possessing_party', 'owning_party'];
  return {
    ...(parties.source ? { sourceList: types.map((type) => ({ type, source: parties.source as string })) } : {}),
    destinationList: types.map((type) => ({ type, destination: parties.destination })),
  };
}

const BTT = new Set(['bol', 'cert', 'desadv', 'inv', 'pedigree', 'po', 'poc', 'prodorder', 'recadv', 'rma', 'testprd', 'testres', 'upevt']);

/**
 * Events as an answer holds them: plain ones (GS1's context and ours declared), or events with the
 * context they were captured with, declared as answerContext merges them (prefixes renamed on a clash).
 */
function answer(items: readonly (EpcisEvent | ContextualEvent)[]): { context: unknown[]; events: EpcisEvent[] } {
  return answerContext(items.map((x) => (isContextual(x) ? x : { event: x })));
}
const isContextual = (x: EpcisEvent | ContextualEvent): x is ContextualEvent => !('type' in x) && 'event' in x;

export function epcisDocument(items: readonly (EpcisEvent | ContextualEvent)[], creationDate = new Date()): EpcisDocument {
  const { context, events } = answer(items);
  return {
    '@context': context,
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: creationDate.toISOString(),
    epcisBody: { eventList: events },
  };
}

export function epcisQueryDocument(items: readonly (EpcisEvent | ContextualEvent)[], queryName = 'SimpleEventQuery', creationDate = new Date()) {
  const { context, events } = answer(items);
  return {
    '@context': context,
    type: 'EPCISQueryDocument',
    schemaVersion: '2.0',
    creationDate: creationDate.toISOString(),
    epcisBody: { queryResults: { queryName, resultsBody: { eventList: events } } },
  };
}
