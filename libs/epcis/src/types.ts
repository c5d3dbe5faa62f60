/**
 * The parts of an EPCIS 2.0 event (JSON/JSON-LD binding) this system reads.
 * Documents are validated against GS1's JSON Schema before anything reads
 * them, so these shapes hold for every event that reaches the mapping.
 */
export interface QuantityElement {
  epcClass: string;
  quantity?: number;
  uom?: string;
}

export interface EpcisEvent {
  type: 'ObjectEvent' | 'AggregationEvent' | 'TransformationEvent' | 'TransactionEvent' | 'AssociationEvent';
  eventTime: string;
  eventTimeZoneOffset: string;
  recordTime?: string;
  eventID?: string;
  action?: 'ADD' | 'OBSERVE' | 'DELETE';
  bizStep?: string;
  disposition?: string;
  epcList?: string[];
  quantityList?: QuantityElement[];
  parentID?: string;
  childEPCs?: string[];
  childQuantityList?: QuantityElement[];
  inputEPCList?: string[];
  inputQuantityList?: QuantityElement[];
  outputEPCList?: string[];
  outputQuantityList?: QuantityElement[];
  readPoint?: { id: string };
  bizLocation?: { id: string };
  bizTransactionList?: { type?: string; bizTransaction: string }[];
  sourceList?: { type: string; source: string }[];
  destinationList?: { type: string; destination: string }[];
  sensorElementList?: unknown[];
  errorDeclaration?: { declarationTime: string; reason?: string; correctiveEventIDs?: string[] };
  [extension: string]: unknown;
}

export interface EpcisDocument {
  '@context'?: unknown;
  type: 'EPCISDocument';
  schemaVersion: string;
  creationDate: string;
  epcisBody: { eventList: EpcisEvent[] };
  [extra: string]: unknown;
}

/** Our own namespace for what EPCIS has no field for (JSON-LD extension properties). */
export const TRACE_NS_PREFIX = 'trace';
export const TRACE_NS = 'https://ns.trace.dev/epcis/';
export const EPCIS_CONTEXT = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';
