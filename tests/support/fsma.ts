import { Workbook } from 'exceljs';
import type { Api } from './api';

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** A strict RFC 4180 reader (quoted fields, doubled quotes, CRLF, line breaks inside quotes): what a spreadsheet program does. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') {
      if (field !== '') throw new Error(`stray quote at ${i}`);
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else if (c === '\n' || c === '\r') throw new Error(`bare line break outside quotes at ${i}`);
    else field += c;
  }
  if (quoted) throw new Error('unterminated quote');
  if (field !== '' || row.length) throw new Error('last record not terminated by CRLF');
  return rows;
}

export interface ExportAnswer {
  status: number;
  headers: Headers;
  /** CSV: text; XLSX: bytes; problem: parsed JSON. */
  text: string;
  bytes: Buffer;
  problem?: { type: string; status: number; detail?: string; errors?: { field: string }[] };
}

/** GET /v1/exports/fsma204 as `api`'s client, with the query and Accept given. */
export async function fetchExport(api: Api, query: Record<string, string>, accept?: string): Promise<ExportAnswer> {
  const r = await fetch(`${api.baseUrl}/v1/exports/fsma204?${new URLSearchParams(query)}`, {
    headers: { ...(await api.headers()), ...(accept ? { accept } : {}) },
  });
  const bytes = Buffer.from(await r.arrayBuffer());
  const text = bytes.toString('utf8');
  const problem = r.headers.get('content-type')?.startsWith('application/problem+json') ? JSON.parse(text) : undefined;
  return { status: r.status, headers: r.headers, text, bytes, problem };
}

/** The CSV as header → value records (BOM dropped). */
export function csvRecords(text: string): Record<string, string>[] {
  if (!text.startsWith('\uFEFF')) throw new Error('CSV without UTF-8 byte-order mark');
  const [header, ...rows] = parseCsv(text.slice(1));
  return rows.map((r) => {
    if (r.length !== header.length) throw new Error(`row of ${r.length} fields under a header of ${header.length}`);
    return Object.fromEntries(header.map((h, i) => [h, r[i]]));
  });
}

/** The first worksheet as header → value records, each cell as the CSV writes it (dates as RFC 3339 UTC, numbers as digits). */
export async function xlsxRecords(bytes: Buffer): Promise<Record<string, string>[]> {
  const wb = new Workbook();
  await wb.xlsx.load(bytes as unknown as ArrayBuffer);
  const ws = wb.worksheets[0];
  const text = (v: unknown): string => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? '' : String(v));
  const header: string[] = [];
  ws.getRow(1).eachCell({ includeEmpty: true }, (cell, col) => (header[col - 1] = text(cell.value)));
  const out: Record<string, string>[] = [];
  for (let r = 2; r <= ws.rowCount; r++) {
    const row = ws.getRow(r);
    out.push(Object.fromEntries(header.map((h, i) => [h, text(row.getCell(i + 1).value)])));
  }
  return out;
}
