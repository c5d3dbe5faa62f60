import { batchKey, parseObjectId, type ObjectRef } from './identifiers';
import { EPCIS_CONTEXT, TRACE_NS, TRACE_NS_PREFIX, type EpcisDocument, type EpcisEvent, type QuantityElement } from './types';

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
  const urn = new RegExp(`^urn:epcglobal:cbv:${kind}:(.+)$`).exec(value);
  if (urn) return urn[1];
  const web = new RegExp(`^https?://(?:ref\\.gs1\\.org/cbv|gs1\\.org/voc)/${kind === 'bizstep' ? 'BizStep' : 'Disp'}-(.+)$`, 'i').exec(value);
  if (web) return web[1];
  return value;
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
  lot: string;
  seq: number;
  prevHash: string;
  hash: string;
  content: Record<string, unknown>;
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
  recordTime: string;
  content: Record<string, unknown>;
  batch: { gtin: string; lot: string; instance: boolean };
  /** The location as an EPCIS location id (an SGLN Digital Link when it has a GLN, else `urn:uuid:`). */
  locationUri: string;
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
  const element = (key: string, q?: { value: number; unit: string }): QuantityElement => ({
    epcClass: key,
    ...(q ? { quantity: q.value, ...(q.unit !== COUNT_UNIT ? { uom: q.unit } : {}) } : {}),
  });
  const what = n.batch.instance ? { epcList: [self] } : { quantityList: [element(self, quantity)] };
  const inputs = c.inputs as { gtin: string; lot: string; quantity: { value: number; unit: string } }[] | undefined;
  const documents = c.documents as { type: string; id: string }[] | undefined;
  const sensors = c.sensors as { type: string; value: number; unit: string; time: string }[] | undefined;
  const base = {
    eventID: `urn:uuid:${n.id}`,
    eventTime: n.eventTime,
    eventTimeZoneOffset: '+00:00',
    recordTime: n.recordTime,
  };
  const why = {
    bizStep: n.bizStep,
    ...(n.disposition ? { disposition: n.disposition } : {}),
    readPoint: { id: n.locationUri },
    bizLocation: { id: n.locationUri },
    ...(documents?.length
      ? { bizTransactionList: documents.map((d) => ({ type: d.type, bizTransaction: `urn:trace:doc:${encodeURIComponent(d.type)}:${encodeURIComponent(d.id)}` })) }
      : {}),
    ...(sensors?.length
      ? {
          sensorElementList: [
            { sensorReport: sensors.map((s) => ({ type: `${TRACE_NS}sensor/${encodeURIComponent(s.type)}`, value: s.value, uom: s.unit, time: s.time })) },
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

const context = () => [EPCIS_CONTEXT, { [TRACE_NS_PREFIX]: TRACE_NS }];

export function epcisDocument(events: EpcisEvent[], creationDate = new Date()): EpcisDocument {
  return {
    '@context': context(),
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: creationDate.toISOString(),
    epcisBody: { eventList: events },
  };
}

export function epcisQueryDocument(events: EpcisEvent[], queryName = 'SimpleEventQuery', creationDate = new Date()) {
  return {
    '@context': context(),
    type: 'EPCISQueryDocument',
    schemaVersion: '2.0',
    creationDate: creationDate.toISOString(),
    epcisBody: { queryResults: { queryName, resultsBody: { eventList: events } } },
  };
}
