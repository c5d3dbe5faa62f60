import { cbvName, parseObjectId, type EpcisEvent } from '@trace/epcis';
import type { EventFilter } from './query-filters';

/**
 * The SimpleEventQuery parameters on sensor data, ILMD, error declarations and user extensions
 * (EPCIS 2.0 §8.2.7.1; GS1's REST binding query schema): each becomes a test on the event as
 * captured. A field of an extension is named by its CURIE as the event carries it
 * (`EQ_ILMD_example:grade`); `INNER_` looks below the top level of the scope.
 */
type Op = 'EQ' | 'GT' | 'GE' | 'LT' | 'LE';
type Problem = { field: string; message: string };
type Obj = Record<string, unknown>;

// GS1's query schema: a lower-case prefix without '_' (so scope names cannot be read as one), a colon, a local name.
const CURIE = '[a-z][a-zA-Z0-9.-]*:[A-Za-z0-9_][A-Za-z0-9._-]*';
const UOM = '[A-Z0-9]{2,4}';
const EXTENSION = new RegExp(
  `^(EQ|GT|GE|LT|LE|EXISTS)_(INNER_)?(ILMD_|ERROR_DECLARATION_|SENSORELEMENT_|SENSORMETADATA_|SENSORREPORT_|readPoint_|bizLocation_)?(${CURIE})$`,
);
const SENSOR_NUMBER = new RegExp(`^(EQ|GT|GE|LT|LE)_(value|minValue|maxValue|meanValue|sDev|percValue)_(${UOM})$`);
const QUANTITY_UOM = new RegExp(`^(EQ|GT|GE|LT|LE)_quantity_(${UOM})$`);
const PERC_RANK = /^(GT|GE|LT|LE)_percRank$/;
const SENSOR_TIME = /^(GE|LT)_(time|startTime|endTime)$/;
/** Sensor fields compared with the values given (sensorMetadata and sensorReport alike where both have the field). */
const SENSOR_EQ: Record<string, 'id' | 'text' | 'type' | 'hex' | 'boolean'> = {
  EQ_type: 'type',
  EQ_deviceID: 'id',
  EQ_dataProcessingMethod: 'id',
  EQ_bizRules: 'id',
  EQ_microorganism: 'text',
  EQ_chemicalSubstance: 'text',
  EQ_uriValue: 'text',
  EQ_stringValue: 'text',
  EQ_hexBinaryValue: 'hex',
  EQ_booleanValue: 'boolean',
};
/** The fixed sensor and ILMD-free parameters this module answers, for the list of supported names. */
export const SENSOR_PARAMETERS = [
  ...Object.keys(SENSOR_EQ),
  'GE_time', 'LT_time', 'GE_startTime', 'LT_startTime', 'GE_endTime', 'LT_endTime',
  'GT_percRank', 'GE_percRank', 'LT_percRank', 'LE_percRank',
  'EQ_persistentDisposition_set', 'EQ_persistentDisposition_unset',
];

/** Whether this module answers the parameter. */
export function isFieldParameter(name: string): boolean {
  return name in SENSOR_EQ || SENSOR_PARAMETERS.includes(name) || EXTENSION.test(name) || SENSOR_NUMBER.test(name) || QUANTITY_UOM.test(name);
}

const objects = (v: unknown): Obj[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]).filter((x): x is Obj => !!x && typeof x === 'object' && !Array.isArray(x));
const sensorElements = (e: EpcisEvent) => objects(e.sensorElementList);
const metadataOf = (e: EpcisEvent) => sensorElements(e).flatMap((s) => objects(s.sensorMetadata));
const reportsOf = (e: EpcisEvent) => sensorElements(e).flatMap((s) => objects(s.sensorReport));
const isTime = (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(s) && !Number.isNaN(Date.parse(s));
const measurement = (s: string) => s.replace(/^(gs1:|https?:\/\/(ref\.)?gs1\.org\/voc\/)/, '');

/** A value of an event compared with a value of the query: numbers as numbers, times as instants, else as text. */
function compare(found: unknown, wanted: string): number | undefined {
  if (typeof found === 'number' || (typeof found === 'string' && found.trim() !== '' && Number.isFinite(Number(found)) && Number.isFinite(Number(wanted)))) {
    const a = Number(found);
    const b = Number(wanted);
    return Number.isFinite(a) && Number.isFinite(b) ? a - b : undefined;
  }
  if (typeof found === 'string' && isTime(found) && isTime(wanted)) return Date.parse(found) - Date.parse(wanted);
  if (typeof found === 'string' || typeof found === 'boolean') return String(found) === wanted ? 0 : undefined;
  return undefined;
}
const holds = (op: Op, c: number | undefined) =>
  c !== undefined && { EQ: c === 0, GT: c > 0, GE: c >= 0, LT: c < 0, LE: c <= 0 }[op];

/** Every value of `field` in the objects, at their top level or (inner) below it. */
function valuesOf(scopes: Obj[], field: string, inner: boolean): unknown[] {
  const out: unknown[] = [];
  const walk = (v: unknown, depth: number) => {
    if (Array.isArray(v)) return v.forEach((x) => walk(x, depth));
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v as Obj)) {
      if (k === field && (inner ? depth > 0 : depth === 0)) out.push(...(Array.isArray(x) ? x : [x]));
      if (inner) walk(x, depth + 1);
    }
  };
  for (const s of scopes) walk(s, 0);
  return out;
}

const SCOPES: Record<string, (e: EpcisEvent, inner: boolean) => Obj[]> = {
  // INNER_ looks inside the event's own extension fields only, not into ILMD, sensors or other standard fields.
  '': (e, inner) => [inner ? Object.fromEntries(Object.entries(e).filter(([k]) => k.includes(':'))) : (e as Obj)],
  ILMD_: (e) => objects(e.ilmd),
  ERROR_DECLARATION_: (e) => objects(e.errorDeclaration),
  SENSORELEMENT_: sensorElements,
  SENSORMETADATA_: metadataOf,
  SENSORREPORT_: reportsOf,
  readPoint_: (e) => objects(e.readPoint),
  bizLocation_: (e) => objects(e.bizLocation),
};

/**
 * The test a field parameter asks for, or problems with its values. `values` are the `|`-separated
 * values given (one for the comparisons).
 */
export function fieldFilter(name: string, values: string[], problems: Problem[]): EventFilter | undefined {
  const bad = (message: string) => {
    problems.push({ field: name, message });
    return undefined;
  };
  const single = (): string | undefined => (values.length === 1 ? values[0] : bad('takes one value'));
  const number = (): number | undefined => {
    const v = single();
    if (v === undefined) return undefined;
    const n = Number(v);
    return v.trim() !== '' && Number.isFinite(n) ? n : bad('must be a number');
  };

  /** EQ_ takes one or more numbers, the comparisons one. */
  const numbers = (op: Op): number[] | undefined => {
    if (op !== 'EQ') {
      const n = number();
      return n === undefined ? undefined : [n];
    }
    const all = values.map(Number);
    return values.every((v) => v.trim() !== '') && all.every(Number.isFinite) ? all : bad('must be numbers');
  };

  let m = EXTENSION.exec(name);
  if (m) {
    const [, op, inner, scope = '', field] = m;
    const scoped = SCOPES[scope];
    if (op === 'EXISTS') return (e) => valuesOf(scoped(e, !!inner), field, !!inner).some((v) => v !== undefined && v !== null);
    if (op !== 'EQ') {
      const v = single();
      if (v === undefined) return undefined;
      if (!Number.isFinite(Number(v)) && !isTime(v)) return bad('must be a number or an RFC 3339 date-time');
      return (e) => valuesOf(scoped(e, !!inner), field, !!inner).some((x) => holds(op as Op, compare(x, v)));
    }
    return (e) => valuesOf(scoped(e, !!inner), field, !!inner).some((x) => values.some((v) => compare(x, v) === 0));
  }

  m = SENSOR_NUMBER.exec(name);
  if (m) {
    const [, op, field, uom] = m;
    const wanted = numbers(op as Op);
    if (!wanted) return undefined;
    return (e) =>
      reportsOf(e).some((r) => r.uom === uom && typeof r[field] === 'number' && wanted.some((w) => holds(op as Op, (r[field] as number) - w)));
  }

  m = QUANTITY_UOM.exec(name);
  if (m) {
    const [, op, uom] = m;
    const wanted = numbers(op as Op);
    if (!wanted) return undefined;
    const lists = (e: EpcisEvent) => [...(e.quantityList ?? []), ...(e.childQuantityList ?? []), ...(e.inputQuantityList ?? []), ...(e.outputQuantityList ?? [])];
    return (e) => lists(e).some((q) => q.uom === uom && typeof q.quantity === 'number' && wanted.some((w) => holds(op as Op, (q.quantity as number) - w)));
  }

  m = PERC_RANK.exec(name);
  if (m) {
    const op = m[1] as Op;
    const n = number();
    if (n === undefined) return undefined;
    return (e) => reportsOf(e).some((r) => typeof r.percRank === 'number' && holds(op, r.percRank - n));
  }

  m = SENSOR_TIME.exec(name);
  if (m) {
    const [, op, field] = m;
    const v = single();
    if (v === undefined) return undefined;
    if (!isTime(v)) return bad('must be an RFC 3339 date-time');
    const scopes = (e: EpcisEvent) => (field === 'time' ? [...metadataOf(e), ...reportsOf(e)] : metadataOf(e));
    return (e) => scopes(e).some((s) => typeof s[field] === 'string' && isTime(s[field] as string) && holds(op as Op, Date.parse(s[field] as string) - Date.parse(v)));
  }

  if (name === 'EQ_persistentDisposition_set' || name === 'EQ_persistentDisposition_unset') {
    const which = name.endsWith('_set') ? 'set' : 'unset';
    const wanted = values.map((d) => cbvName(d, 'disp'));
    return (e) => {
      const p = objects(e.persistentDisposition)[0];
      const list = p ? (Array.isArray(p[which]) ? (p[which] as unknown[]) : []) : [];
      return list.some((d) => typeof d === 'string' && wanted.includes(cbvName(d, 'disp')));
    };
  }

  const kind = SENSOR_EQ[name];
  if (kind) {
    const field = name.slice(3);
    if (kind === 'boolean') {
      const v = single();
      if (v === undefined) return undefined;
      if (v !== 'true' && v !== 'false') return bad('must be true or false');
      return (e) => reportsOf(e).some((r) => r.booleanValue === (v === 'true'));
    }
    if (kind === 'hex' && values.some((v) => !/^[0-9A-Fa-f]+$/.test(v))) return bad('must be hexadecimal');
    const same = (found: unknown, v: string) => {
      if (typeof found !== 'string') return false;
      if (kind === 'hex') return found.toLowerCase() === v.toLowerCase();
      if (kind === 'type') return measurement(found) === measurement(v);
      if (kind === 'id') return found === v || parseObjectId(found).key === parseObjectId(v).key;
      return found === v;
    };
    // deviceID, dataProcessingMethod and bizRules are in the sensor metadata and in each report.
    const scopes = (e: EpcisEvent) => (kind === 'id' ? [...metadataOf(e), ...reportsOf(e)] : reportsOf(e));
    return (e) => scopes(e).some((s) => values.some((v) => same(s[field], v)));
  }
  return bad('not a query parameter this interface supports');
}
