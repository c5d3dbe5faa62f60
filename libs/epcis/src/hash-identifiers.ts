import { gs1CheckDigit } from '@trace/gs1';

/**
 * The identifier rule of the CBV 2.0 event hash: any EPC URI, EPC class URI, EPC pattern URI or
 * GS1 Digital Link URI naming a GS1 key becomes its constrained canonical Digital Link on
 * id.gs1.org (finest level of identification, no CPV, no query string); anything else is left
 * as it is (null). It follows the normaliser of GS1's reference event hash generator case by
 * case, quirks included (a Digital Link whose serial holds a character outside the GS1 set, a
 * percent-encoded one among them, is not converted), because the hash must agree byte for byte
 * with other repositories' hashes of the same event. It is not `parseObjectId` (identifiers.ts):
 * that one names batches for matching and de-duplication and accepts more.
 */
const CHAR = `(?:%2[125-9A-Fa-f]|%3[0-9A-Fa-f]|%4[1-9A-Fa-f]|%5[0-9AaFf]|%6[1-9A-Fa-f]|%7[0-9Aa]|[!')(*+,.0-9:;=A-Za-z_-])`;
const CPI_CHAR = `(?:%2[3dfDF]|%3[0-9]|%4[1-9A-Fa-f]|%5[0-9Aa]|[0-9A-Z-])`;
/** Company prefix of 6-12 digits and a reference completing it to `total` digits. */
const split = (total: number, sep = '\\.') =>
  `(?:${[6, 7, 8, 9, 10, 11, 12].map((n) => `\\d{${n}}${sep}\\d{${total - n}}`).join('|')})`;
const DL = 'https://id.gs1.org';

const withCheck = (digits: string) => `${digits}${gs1CheckDigit(digits)}`;
/**
 * The reference percent-encodes these few characters of a serial or lot and keeps every other one
 * (`!`, `(`, `)`, `*` and existing percent-escapes too) as written.
 */
const encode = (s: string) => s.replace(/\+/g, '%2B').replace(/,/g, '%2C').replace(/:/g, '%3A');

const re = (source: string) => new RegExp(`^${source}$`);
const SGTIN = re(`urn:epc:id:sgtin:(${split(13)})\\.(${CHAR}{1,20})`);
const SSCC = re(`urn:epc:id:sscc:(${split(17)})`);
const SGLN = re(`urn:epc:id:sgln:(${split(12)}|\\d{12}\\.)\\.(${CHAR}{1,20})`);
const GRAI = re(`urn:epc:id:grai:(${split(12)}|\\d{12}\\.\\.)\\.(${CHAR}{1,16})`);
const GIAI = re(`urn:epc:id:giai:(\\d{6,12})\\.(${CHAR}{1,24})`);
const GSRN = re(`urn:epc:id:gsrn:(${split(17)})`);
const GSRNP = re(`urn:epc:id:gsrnp:(${split(17)})`);
const GDTI = re(`urn:epc:id:gdti:(${split(12)}|\\d{12}\\.)\\.(${CHAR}{0,19})`);
const CPI = re(`urn:epc:id:cpi:(\\d{6,12})\\.(${CPI_CHAR}{1,24})\\.(\\d{1,12})`);
const SGCN = re(`urn:epc:id:sgcn:(${split(12)}|\\d{12}\\.)\\.(\\d{1,12})`);
const GINC = re(`urn:epc:id:ginc:(\\d{6,12})\\.(${CHAR}{1,24})`);
const GSIN = re(`urn:epc:id:gsin:(${split(16)})`);
const ITIP = re(`urn:epc:id:itip:(${split(13)})\\.(\\d{2})\\.(\\d{2})\\.(${CHAR}{1,20})`);
const UPUI = re(`urn:epc:id:upui:(${split(13)})\\.(${CHAR}{1,28})`);
const PGLN = re(`urn:epc:id:pgln:(${split(12)}|\\d{12}\\.)`);
const LGTIN = re(`urn:epc:class:lgtin:(${split(13)})\\.(${CHAR}{1,20})`);
const IDPAT_SGTIN = re(`urn:epc:idpat:sgtin:(${split(13)})\\.\\*`);
const IDPAT_GRAI = re(`urn:epc:idpat:grai:(${split(12)}|\\d{12}\\.\\.)\\.\\*`);
const IDPAT_GDTI = re(`urn:epc:idpat:gdti:(${split(12)}|\\d{12}\\.\\.)\\.\\*`);
const IDPAT_SGCN = re(`urn:epc:idpat:sgcn:(${split(12)}|\\d{12}\\.\\.)\\.\\*`);
const IDPAT_CPI = re(`urn:epc:idpat:cpi:(\\d{6,12})\\.(${CPI_CHAR}{1,24})\\.\\*`);
const IDPAT_ITIP = re(`urn:epc:idpat:itip:(${split(13)})\\.(\\d{2})\\.(\\d{2})\\.\\*`);
const IDPAT_UPUI = re(`urn:epc:idpat:upui:(${split(13)})\\.\\*`);

/** "4012345.012345" (company prefix, indicator digit first in the item reference) → GTIN-14. */
const gtin = (cpItem: string) => {
  const [cp, item] = cpItem.split('.');
  return withCheck(`${item[0]}${cp}${item.slice(1)}`);
};
const digits = (cpRef: string) => cpRef.replace(/\./g, '');

function fromUrn(uri: string): string | null {
  let m: RegExpExecArray | null;
  if ((m = SGTIN.exec(uri))) return `${DL}/01/${gtin(m[1])}/21/${encode(m[2])}`;
  if ((m = SSCC.exec(uri))) {
    const [cp, ref] = m[1].split('.');
    return `${DL}/00/${withCheck(`${ref[0]}${cp}${ref.slice(1)}`)}`;
  }
  if ((m = SGLN.exec(uri))) return `${DL}/414/${withCheck(digits(m[1]))}${m[2] === '0' ? '' : `/254/${encode(m[2])}`}`;
  if ((m = GRAI.exec(uri))) return `${DL}/8003/${withCheck(`0${digits(m[1])}`)}${encode(m[2])}`;
  if ((m = GIAI.exec(uri)) && m[1].length + m[2].length <= 30) return `${DL}/8004/${m[1]}${encode(m[2])}`;
  if ((m = GSRN.exec(uri))) return `${DL}/8018/${withCheck(digits(m[1]))}`;
  if ((m = GSRNP.exec(uri))) return `${DL}/8017/${withCheck(digits(m[1]))}`;
  if ((m = GDTI.exec(uri))) return `${DL}/253/${withCheck(digits(m[1]))}${encode(m[2])}`;
  if ((m = CPI.exec(uri)) && m[1].length + m[2].length <= 30) return `${DL}/8010/${encode(`${m[1]}${m[2]}`)}/8011/${m[3]}`;
  if ((m = SGCN.exec(uri))) return `${DL}/255/${withCheck(digits(m[1]))}${m[2]}`;
  if ((m = GINC.exec(uri)) && m[1].length + m[2].length <= 30) return `${DL}/401/${m[1]}${encode(m[2])}`;
  if ((m = GSIN.exec(uri))) return `${DL}/402/${withCheck(digits(m[1]))}`;
  if ((m = ITIP.exec(uri))) return `${DL}/8006/${gtin(m[1])}${m[2]}${m[3]}/21/${encode(m[4])}`;
  if ((m = UPUI.exec(uri))) return `${DL}/01/${gtin(m[1])}/235/${encode(m[2])}`;
  if ((m = PGLN.exec(uri))) return `${DL}/417/${withCheck(digits(m[1]))}`;
  if ((m = LGTIN.exec(uri))) return `${DL}/01/${gtin(m[1])}/10/${encode(m[2])}`;
  if ((m = IDPAT_SGTIN.exec(uri)) || (m = IDPAT_UPUI.exec(uri))) return `${DL}/01/${gtin(m[1])}`;
  if ((m = IDPAT_GRAI.exec(uri))) return `${DL}/8003/${withCheck(`0${digits(m[1])}`)}`;
  if ((m = IDPAT_GDTI.exec(uri))) return `${DL}/253/${withCheck(digits(m[1]))}`;
  if ((m = IDPAT_SGCN.exec(uri))) return `${DL}/255/${withCheck(digits(m[1]))}`;
  if ((m = IDPAT_CPI.exec(uri)) && m[1].length + m[2].length <= 30) return `${DL}/8010/${encode(`${m[1]}${m[2]}`)}`;
  if ((m = IDPAT_ITIP.exec(uri))) return `${DL}/8006/${gtin(m[1])}${m[2]}${m[3]}`;
  return null;
}

const KEY_NAMES: [string, string][] = [
  ['gtin', '01'], ['itip', '8006'], ['cpid', '8010'], ['gln', '414'], ['party', '417'], ['gsrnp', '8017'], ['gsrn', '8018'],
  ['gcn', '255'], ['sscc', '00'], ['gdti', '253'], ['ginc', '401'], ['gsin', '402'], ['grai', '8003'], ['giai', '8004'],
  ['cpv', '22'], ['lot', '10'], ['ser', '21'],
];
/** Primary keys in the order the reference looks for them when moving a Digital Link onto id.gs1.org. */
const PRIMARY = ['00', '01', '253', '255', '401', '402', '414', '417', '8003', '8004', '8006', '8010', '8017', '8018'];
const DL_SHAPE =
  /^https?:(\/\/(([^/?#]*)@)?([^/?#:]*)(:([^/?#]*))?)?((([^?#]*)(\/(01|gtin|8006|itip|8010|cpid|414|gln|417|party|8017|gsrnp|8018|gsrn|255|gcn|00|sscc|253|gdti|401|ginc|402|gsin|8003|grai|8004|giai)\/)(\d{4}[^/]+)(\/[^/]+\/[^/]+)?[/]?(\?([^?\n]*))?(#([^\n]*))?)|(\/[A-Za-z_-]{10}$))/;
const CANONICAL_HOST = /^https:\/\/id.gs1.org\/(01|8006|8010|414|417|8017|8018|255|00|253|401|402|8003|8004)\/(\d{4}[^/]+)(\/[^/]+\/[^/]+)?[/]?(\?([^?\n]*))?(#([^\n]*))?|(\/[A-Za-z_-]{10}$)/;
const V = `[\\x22\\x27\\x2D\\x2E\\x30-\\x39\\x3B-\\x3F\\x41-\\x5A\\x5F\\x61-\\x7A]`;
const VALID = [
  `00/(\\d{18})`, `01/(\\d{14})/21/(${V}{0,20})`, `01/(\\d{14})/10/(${V}{0,20})`, `01/(\\d{14})`, `01/(\\d{14})/235/(${V}{0,28})`,
  `253/(\\d{13})(${V}{0,17})`, `255/(\\d{13})(\\d{0,12})`, `401/(${V}{0,30})`, `402/(\\d{17})`, `414/(\\d{13})`,
  `414/(\\d{13})/254/(${V}{0,20})`, `417/(\\d{13})`, `8003/(\\d{14})(${V}{0,16})`, `8004/(${V}{0,30})`, `8006/(\\d{18})/21/(${V}{0,20})`,
  `8006/(\\d{18})/10/(${V}{0,20})`, `8006/(\\d{18})`, `8010/([\\x23\\x2D\\x2F\\x30-\\x39\\x41-\\x5A]{0,30})/8011/(\\d{0,12})`,
  `8010/([\\x23\\x2D\\x2F\\x30-\\x39\\x41-\\x5A]{0,30})`, `8017/(\\d{18})`, `8018/(\\d{18})`,
].map((p) => new RegExp(`^https://id.gs1.org/${p}$`));

function fromDigitalLink(input: string): string | null {
  if (!DL_SHAPE.test(input)) return null;
  let uri = input.includes('?') ? input.slice(0, input.indexOf('?')) : input;
  for (const [name, ai] of KEY_NAMES) uri = uri.split(`/${name}/`).join(`/${ai}/`);
  if (!CANONICAL_HOST.test(uri)) {
    const key = PRIMARY.find((ai) => uri.includes(`/${ai}/`));
    if (key) uri = `${DL}${uri.slice(uri.indexOf(`/${key}/`))}`;
  }
  const short = /^https:\/\/id.gs1.org\/01\/(\d+)/.exec(uri);
  if (short && short[1].length < 14 && [8, 12, 13].includes(short[1].length)) uri = uri.replace('/01/', `/01/${'0'.repeat(14 - short[1].length)}`);
  // No CPV (AI 22) in the canonical form.
  uri = uri.replace(/^(https:\/\/id.gs1.org\/(?:01\/\d{14}|8006\/\d{18}))\/22\/[^/]*/, '$1');
  // Only the finest level: a serial makes the lot redundant.
  uri = uri.replace(/^(https:\/\/id.gs1.org\/(?:01\/\d{14}|8006\/\d{18}))\/10\/[^/]*(\/21\/[^/]*)$/, '$1$2');
  return VALID.some((v) => v.test(uri)) ? uri : null;
}

/** The canonical Digital Link of a GS1 key in any of its URI forms, or null when the value names none. */
export function hashCanonicalIdentifier(value: string): string | null {
  if (value.startsWith('urn:epc:')) return fromUrn(value);
  if (/^https?:/.test(value)) return fromDigitalLink(value);
  return null;
}
