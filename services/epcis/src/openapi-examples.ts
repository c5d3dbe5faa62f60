/** Examples shown in /docs for the EPCIS 2.0 REST binding (as `npm start` answered them). */
const CONTEXT = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';
const EPC_CLASS = 'https://id.gs1.org/01/06917965435904/10/TOM-2026-12-06';
const FARM = 'urn:uuid:a57ce6f7-29b8-45d4-9aff-a89a48350dd9';
/** How answers name a location of ours without a GLN (an opaque name, never our id) and organisations with one (PGLN). */
const FARM_OUT = 'urn:trace:location:5d1c0f0b9e3a4c27a8f61d2e3b7c9a40';
const SHIPPER = 'https://id.gs1.org/417/6917965000003';
const RECEIVER = 'https://id.gs1.org/417/6917965000010';

export const STORED_EVENT_EXAMPLE = {
  type: 'ObjectEvent',
  eventTime: '2026-12-06T10:00:00+08:00',
  eventTimeZoneOffset: '+08:00',
  action: 'OBSERVE',
  bizStep: 'storing',
  quantityList: [{ epcClass: EPC_CLASS, quantity: 700, uom: 'KGM' }],
  readPoint: { id: FARM },
  eventID: 'ni:///sha-256;35df4f47223c2a6b5bec5bef128d8a8483cae285ddeb20f4a5e6faf40e915790?ver=CBV2.0',
};

export const QUERY_DOCUMENT_EXAMPLE = {
  '@context': [CONTEXT, { trace: 'https://ns.trace.dev/epcis/' }],
  type: 'EPCISQueryDocument',
  schemaVersion: '2.0',
  creationDate: '2026-12-06T08:12:05.559Z',
  epcisBody: {
    queryResults: {
      queryName: 'SimpleEventQuery',
      resultsBody: {
        eventList: [
          {
            type: 'ObjectEvent',
            eventID: 'ni:///sha-256;9b0c5b3a4e1f2d6c7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f?ver=CBV2.0',
            eventTime: '2026-12-06T07:53:15+08:00',
            eventTimeZoneOffset: '+08:00',
            recordTime: '2026-12-06T07:53:15.742Z',
            quantityList: [{ epcClass: EPC_CLASS, quantity: 500, uom: 'KGM' }],
            action: 'OBSERVE',
            bizStep: 'shipping',
            disposition: 'in_transit',
            readPoint: { id: FARM_OUT },
            bizLocation: { id: FARM_OUT },
            sourceList: [
              { type: 'possessing_party', source: SHIPPER },
              { type: 'owning_party', source: SHIPPER },
            ],
            destinationList: [
              { type: 'possessing_party', destination: RECEIVER },
              { type: 'owning_party', destination: RECEIVER },
            ],
          },
        ],
      },
    },
  },
};

export const CAPTURE_JOB_EXAMPLE = {
  captureID: '3573aed5-0817-494c-802e-d8ed140e6b8a',
  createdAt: '2026-12-06T08:12:06.734Z',
  running: true,
  success: false,
  captureErrorBehaviour: 'rollback',
  errors: [],
  progress: { total: 1, done: 0 },
};

export const CAPTURE_JOB_DONE_EXAMPLE = { ...CAPTURE_JOB_EXAMPLE, finishedAt: '2026-12-06T08:12:06.889Z', running: false, success: true, progress: { total: 1, done: 1 } };

export const ROOT_EXAMPLE = { '@context': CONTEXT, type: 'Collection', member: ['capture', 'events', 'eventTypes', 'epcs', 'bizSteps', 'bizLocations', 'readPoints', 'dispositions'] };
export const VALUES_EXAMPLE = { '@context': CONTEXT, type: 'Collection', member: ['accepting', 'arriving', 'assembling'] };
export const VALUE_EXAMPLE = { '@context': CONTEXT, type: 'Collection', member: ['events'] };

/** A capture request: an EPCISDocument with one event. */
export const CAPTURE_REQUEST_EXAMPLE = {
  '@context': [CONTEXT],
  type: 'EPCISDocument',
  schemaVersion: '2.0',
  creationDate: '2026-12-06T08:00:00+08:00',
  epcisBody: {
    eventList: [
      {
        type: 'ObjectEvent',
        eventTime: '2026-12-06T09:00:00+08:00',
        eventTimeZoneOffset: '+08:00',
        action: 'OBSERVE',
        bizStep: 'storing',
        quantityList: [{ epcClass: EPC_CLASS, quantity: 700, uom: 'KGM' }],
        readPoint: { id: FARM },
      },
    ],
  },
};

/** One event to capture on its own (POST /v1/epcis/events). */
export const EVENT_REQUEST_EXAMPLE = CAPTURE_REQUEST_EXAMPLE.epcisBody.eventList[0];

export const NAMED_QUERY_EXAMPLE = { name: 'shipped-tomatoes', query: { EQ_bizStep: ['shipping'], MATCH_anyEPC: [EPC_CLASS], GE_eventTime: '2026-12-01T00:00:00+08:00' } };

export const SUBSCRIPTION_REQUEST_EXAMPLE = {
  dest: 'https://erp.example.com/epcis/callback',
  signatureToken: '13df38d8275b13f05704629e5f1cf3d45d6132d5',
  stream: true,
};

export const SUBSCRIPTION_EXAMPLE = {
  subscriptionID: 'df5a33e3-5aa3-4403-ae01-99b83234e27b',
  dest: 'https://erp.example.com/epcis/callback',
  stream: true,
  initialRecordTime: '2026-12-06T08:00:00.000Z',
  minRecordTime: '2026-12-06T08:12:04.873Z',
  createdAt: '2026-12-06T08:00:00.000Z',
  lastNotifiedAt: '2026-12-06T08:12:05.559Z',
};

export const SCHEDULED_SUBSCRIPTION_REQUEST_EXAMPLE = {
  dest: 'https://erp.example.com/epcis/callback',
  signatureToken: '13df38d8275b13f05704629e5f1cf3d45d6132d5',
  reportIfEmpty: true,
  schedule: { hour: '1', minute: '5' },
};

export const SCHEDULED_SUBSCRIPTION_EXAMPLE = {
  subscriptionID: '7cec849f-72f7-4a9d-bc86-080d3c5b7c98',
  dest: 'https://erp.example.com/epcis/callback',
  schedule: { hour: '1', minute: '5' },
  reportIfEmpty: true,
  nextRunAt: '2026-12-07T01:05:00.000Z',
  initialRecordTime: '2026-12-06T08:00:00.000Z',
  minRecordTime: '2026-12-06T08:00:00.000Z',
  createdAt: '2026-12-06T08:00:00.000Z',
};
