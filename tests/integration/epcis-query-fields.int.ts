import { gs1CheckDigit } from '@trace/gs1';
import { validateEpcis } from '@trace/epcis';
import { eventually } from '@trace/testing';
import type { Api } from '../support/api';
import { startEmbeddedApp, type EmbeddedTestApp } from '../support/embedded-app';
import { anOrg } from '../support/world';

/**
 * SimpleEventQuery on sensor data, ILMD, error declarations and user extensions (EPCIS 2.0 §8.2.7.1,
 * GS1's REST binding query schema), answered over captured partner events; any other parameter is a
 * 400 QueryParameterException.
 */
const gtin = (body13: string) => `${body13}${gs1CheckDigit(body13)}`;
const G = gtin('0761234500101'); // no product of any domain: partner events
const sgtin = (serial: string) => `https://id.gs1.org/01/${G}/21/${serial}`;
const at = (minute: number) => new Date(Date.UTC(2026, 10, 21, 9, minute)).toISOString();
const WINDOW = `GE_eventTime=${at(0)}&LT_eventTime=${at(10)}`;

const events = [
  {
    type: 'ObjectEvent', action: 'OBSERVE', bizStep: 'sensor_reporting', eventTime: at(0), eventTimeZoneOffset: '+00:00',
    epcList: [sgtin('T-1')],
    sensorElementList: [
      {
        sensorMetadata: { time: at(0), startTime: at(0), endTime: at(5), deviceID: 'urn:epc:id:giai:4000001.111', bizRules: 'https://example.com/rules/cold', 'example:probe': 'P-7' },
        sensorReport: [
          { type: 'Temperature', value: 4.5, uom: 'CEL', minValue: 2, maxValue: 7, meanValue: 4.5, sDev: 0.4, percRank: 50, percValue: 4.4, 'example:calibrated': 'yes' },
          { type: 'gs1:RelativeHumidity', value: 80, uom: 'A93' },
          { type: 'Dimensionless', stringValue: 'OK', booleanValue: true, hexBinaryValue: 'F0F0', uriValue: 'https://example.com/ok', microorganism: 'https://www.ncbi.nlm.nih.gov/taxonomy/1126011' },
        ],
      },
    ],
  },
  {
    type: 'ObjectEvent', action: 'ADD', bizStep: 'commissioning', eventTime: at(1), eventTimeZoneOffset: '+00:00',
    quantityList: [{ epcClass: `https://id.gs1.org/01/${G}/10/L-1`, quantity: 12, uom: 'KGM' }],
    ilmd: { 'example:grade': 'A', 'example:bestBefore': '2027-01-31T00:00:00Z', 'example:lab': { 'example:score': 91 } },
    persistentDisposition: { set: ['completeness_verified'], unset: ['completeness_inferred'] },
    readPoint: { id: 'urn:epc:id:sgln:7612345.00010.0', 'example:door': 'D4' },
    'example:shift': 2,
    'example:crew': { 'example:lead': 'Wang' },
  },
  {
    type: 'ObjectEvent', action: 'OBSERVE', bizStep: 'sensor_reporting', eventTime: at(2), eventTimeZoneOffset: '+00:00',
    epcList: [sgtin('T-2')],
    sensorElementList: [{ sensorReport: [{ type: 'Temperature', value: 9, uom: 'CEL', time: at(2) }] }],
    'example:shift': 3,
  },
  {
    type: 'TransformationEvent', bizStep: 'commissioning', eventTime: at(3), eventTimeZoneOffset: '+00:00',
    transformationID: 'urn:epc:id:gdti:7612345.00001.T1',
    inputQuantityList: [{ epcClass: `https://id.gs1.org/01/${G}/10/L-2`, quantity: 1, uom: 'KGM' }],
    outputEPCList: [sgtin('T-9')],
    sourceList: [{ type: 'owning_party', source: 'urn:epc:id:pgln:7612345.00000' }],
    destinationList: [{ type: 'possessing_party', destination: 'urn:epc:id:pgln:7612345.00001' }],
  },
  { type: 'ObjectEvent', action: 'OBSERVE', bizStep: 'inspecting', eventTime: at(4), eventTimeZoneOffset: '+00:00', epcList: [sgtin('T-4')] },
  {
    // The error declaration of the event above: the same event, declared erroneous.
    type: 'ObjectEvent', action: 'OBSERVE', bizStep: 'inspecting', eventTime: at(4), eventTimeZoneOffset: '+00:00', epcList: [sgtin('T-4')],
    errorDeclaration: { declarationTime: at(8), reason: 'incorrect_data', correctiveEventIDs: ['urn:uuid:2f1e0d9c-8b7a-4c5d-9e0f-1a2b3c4d5e6f'] },
  },
];

const doc = {
  '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld', { example: 'https://ns.example.com/epcis/' }],
  type: 'EPCISDocument',
  schemaVersion: '2.0',
  creationDate: at(0),
  epcisBody: { eventList: events },
};

describe('EPCIS query: sensor, ILMD and extension parameters', () => {
  let t: EmbeddedTestApp;
  let api: Api;

  beforeAll(async () => {
    t = await startEmbeddedApp();
    api = (await anOrg(t, 'EPCIS Field Queries', 'processor', ['factory'])).api;
    const r = await fetch(`${api.baseUrl}/v1/epcis/capture`, {
      method: 'POST',
      headers: { ...(await api.headers()), 'content-type': 'application/ld+json' },
      body: JSON.stringify(doc),
    });
    expect(r.status).toBe(202);
    const { captureID } = (await r.json()) as { captureID: string };
    const job = await eventually(async () => {
      const j = await api.get(`/v1/epcis/capture/${captureID}`);
      return j.status === 200 && !j.body.running ? j.body : undefined;
    }, 60_000);
    expect(job).toMatchObject({ success: true, errors: [] });
  }, 90_000);
  afterAll(async () => {
    await t?.close();
  });

  /** The eventTimes (minutes) of the events a query answers. */
  const minutes = async (qs: string) => {
    const r = await api.get(`/v1/epcis/events?${WINDOW}&${qs}`);
    expect({ qs, status: r.status }).toEqual({ qs, status: 200 });
    expect(validateEpcis(r.body)).toEqual([]);
    return (r.body.epcisBody.queryResults.resultsBody.eventList as { eventTime: string }[]).map((e) => new Date(e.eventTime).getUTCMinutes()).sort();
  };
  const enc = encodeURIComponent;

  it('answers the sensor parameters: type, device, values by unit, times, strings, booleans, hex, percentile rank', async () => {
    expect(await minutes('EQ_type=Temperature')).toEqual([0, 2]);
    expect(await minutes('EQ_type=RelativeHumidity')).toEqual([0]); // captured as gs1:RelativeHumidity
    expect(await minutes(`EQ_type=${enc('https://gs1.org/voc/Temperature')}`)).toEqual([0, 2]);
    expect(await minutes(`EQ_deviceID=${enc('https://id.gs1.org/8004/4000001111')}`)).toEqual([0]); // the GIAI URN's Digital Link
    expect(await minutes(`EQ_bizRules=${enc('https://example.com/rules/cold')}`)).toEqual([0]);
    expect(await minutes('GT_value_CEL=5')).toEqual([2]);
    expect(await minutes('LE_value_CEL=4.5')).toEqual([0]);
    expect(await minutes('EQ_value_CEL=4.5|9')).toEqual([0, 2]);
    expect(await minutes('GE_value_A93=80')).toEqual([0]);
    expect(await minutes('GT_value_KEL=0')).toEqual([]); // another unit: no conversion, no match
    expect(await minutes('LT_minValue_CEL=3')).toEqual([0]);
    expect(await minutes('GE_maxValue_CEL=8')).toEqual([]);
    expect(await minutes('GT_meanValue_CEL=4|')).toEqual([0]);
    expect(await minutes('LT_sDev_CEL=0.5')).toEqual([0]);
    expect(await minutes('GE_percValue_CEL=4.4')).toEqual([0]);
    expect(await minutes('GE_percRank=50')).toEqual([0]);
    expect(await minutes('LT_percRank=50')).toEqual([]);
    expect(await minutes(`GE_time=${enc(at(1))}`)).toEqual([2]); // a report's time
    expect(await minutes(`LT_startTime=${enc(at(1))}`)).toEqual([0]);
    expect(await minutes(`GE_endTime=${enc(at(6))}`)).toEqual([]);
    expect(await minutes('EQ_stringValue=OK')).toEqual([0]);
    expect(await minutes('EQ_booleanValue=true')).toEqual([0]);
    expect(await minutes('EQ_booleanValue=false')).toEqual([]);
    expect(await minutes('EQ_hexBinaryValue=f0f0')).toEqual([0]);
    expect(await minutes(`EQ_uriValue=${enc('https://example.com/ok')}`)).toEqual([0]);
    expect(await minutes(`EQ_microorganism=${enc('https://www.ncbi.nlm.nih.gov/taxonomy/1126011')}`)).toEqual([0]);
    expect(await minutes('EXISTS_sensorElementList')).toEqual([0, 2]);
    expect(await minutes('EQ_SENSORMETADATA_example:probe=P-7')).toEqual([0]);
    expect(await minutes('EQ_SENSORREPORT_example:calibrated=yes')).toEqual([0]);
    expect(await minutes('EXISTS_SENSORREPORT_example:calibrated')).toEqual([0]);
  }, 60_000);

  it('answers ILMD, extension, readPoint-extension, persistent disposition and quantity-by-unit parameters', async () => {
    expect(await minutes('EQ_ILMD_example:grade=A|B')).toEqual([1]);
    expect(await minutes('EQ_ILMD_example:grade=C')).toEqual([]);
    expect(await minutes(`GT_ILMD_example:bestBefore=${enc('2027-01-01T00:00:00Z')}`)).toEqual([1]);
    expect(await minutes('EXISTS_ILMD_example:grade')).toEqual([1]);
    expect(await minutes('EXISTS_ILMD_example:score')).toEqual([]); // nested: only INNER_ finds it
    expect(await minutes('GE_INNER_ILMD_example:score=90')).toEqual([1]);
    expect(await minutes('EQ_example:shift=2')).toEqual([1]);
    expect(await minutes('GE_example:shift=2')).toEqual([1, 2]);
    expect(await minutes('LT_example:shift=3')).toEqual([1]);
    expect(await minutes('EXISTS_example:shift')).toEqual([1, 2]);
    expect(await minutes('EQ_INNER_example:lead=Wang')).toEqual([1]);
    expect(await minutes('EQ_example:lead=Wang')).toEqual([]);
    expect(await minutes('EQ_readPoint_example:door=D4')).toEqual([1]);
    expect(await minutes('EQ_persistentDisposition_set=completeness_verified')).toEqual([1]);
    expect(await minutes('EQ_persistentDisposition_unset=completeness_verified')).toEqual([]);
    expect(await minutes('EQ_quantity_KGM=12')).toEqual([1]);
    expect(await minutes('GT_quantity_KGM=12')).toEqual([]);
    expect(await minutes('GE_quantity_LTR=1')).toEqual([]);
  }, 60_000);

  it('answers the transformation, source/destination, class and error-declaration parameters', async () => {
    expect(await minutes(`EQ_transformationID=${enc('urn:epc:id:gdti:7612345.00001.T1')}`)).toEqual([3]);
    expect(await minutes(`MATCH_inputEPCClass=${enc(`https://id.gs1.org/01/${G}/10/L-2`)}`)).toEqual([3]);
    expect(await minutes(`MATCH_outputEPC=${enc(sgtin('T-9'))}`)).toEqual([3]);
    expect(await minutes(`MATCH_epc=${enc(sgtin('T-9'))}`)).toEqual([]);
    expect(await minutes(`EQ_source_owning_party=${enc('urn:epc:id:pgln:7612345.00000')}`)).toEqual([3]);
    expect(await minutes(`EQ_source_possessing_party=${enc('urn:epc:id:pgln:7612345.00000')}`)).toEqual([]);
    expect(await minutes(`EQ_destination_possessing_party=${enc('urn:epc:id:pgln:7612345.00001')}`)).toEqual([3]);
    expect(await minutes('EXISTS_errorDeclaration')).toEqual([4]);
    expect(await minutes('EQ_errorReason=incorrect_data')).toEqual([4]);
    expect(await minutes('EQ_errorReason=did_not_occur')).toEqual([]);
    expect(await minutes(`EQ_correctiveEventID=${enc('urn:uuid:2f1e0d9c-8b7a-4c5d-9e0f-1a2b3c4d5e6f')}`)).toEqual([4]);
    expect(await minutes(`GE_errorDeclarationTime=${enc(at(8))}`)).toEqual([4]);
    expect(await minutes(`LT_errorDeclarationTime=${enc(at(8))}`)).toEqual([]);
  }, 60_000);

  it('refuses unknown parameters and bad values with a 400 QueryParameterException', async () => {
    for (const bad of ['EQ_colour=red', 'HASATTR_example:x=1', 'EQATTR_example:x_y=1', 'GT_value_CEL=warm', 'EQ_booleanValue=yes', 'GE_time=yesterday', 'EQ_hexBinaryValue=XYZ', 'GT_ILMD_example:grade=A', 'GE_percRank=1|2', 'EQ_SENSORTHING_example:x=1']) {
      const r = await api.get(`/v1/epcis/events?${bad}`);
      expect({ bad, status: r.status, exception: r.body.epcisException }).toEqual({ bad, status: 400, exception: 'epcisException:QueryParameterException' });
      expect(r.body.errors).toEqual([expect.objectContaining({ field: bad.split('=')[0] })]);
    }
  }, 60_000);
});
