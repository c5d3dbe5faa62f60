import ExcelJS from 'exceljs';
import type { UploadFormat } from '@trace/platform';

/** One data row of a sheet: its line number as the user sees it (the header is row 1) and its cells by column name. */
export interface SheetRow {
  row: number;
  cells: Record<string, string>;
}

/** A cell that cannot become text without inventing something (an Excel date has no UTC offset). */
export interface CellProblem {
  row: number;
  field: string;
  message: string;
}

export interface Sheet {
  columns: string[];
  rows: SheetRow[];
  problems: CellProblem[];
}

export class SheetError extends Error {}

/**
 * RFC 4180 CSV: fields separated by commas, optionally quoted with `"` (a
 * quote inside doubled), CRLF or LF line ends, a UTF-8 byte-order mark
 * ignored (Excel writes one). A blank line is an empty record (skipped
 * later), so row numbers stay the ones the user sees.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRecord = () => {
    record.push(field);
    records.push(record);
    record = [];
    field = '';
  };
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
    } else field += c;
  }
  if (quoted) throw new SheetError('the file ends inside a quoted field (a " is not closed)');
  if (field !== '' || record.length) endRecord();
  return records;
}

function fromRecords(records: string[][], problems: CellProblem[] = []): Sheet {
  if (!records.length) throw new SheetError('the file has no header row');
  const columns = records[0].map((c) => c.trim());
  const seen = new Set<string>();
  for (const c of columns) {
    if (!c) throw new SheetError('a column of the header row has no name');
    if (seen.has(c)) throw new SheetError(`the column "${c}" appears twice in the header row`);
    seen.add(c);
  }
  const rows = records.slice(1).map((values, i) => {
    const cells: Record<string, string> = {};
    columns.forEach((c, j) => {
      const v = (values[j] ?? '').trim();
      if (v !== '') cells[c] = v;
    });
    return { row: i + 2, cells, extra: values.slice(columns.length).some((v) => v.trim() !== '') };
  });
  for (const r of rows) if (r.extra) problems.push({ row: r.row, field: '(row)', message: `the row has more values than the header has columns (${columns.length})` });
  return { columns, rows: rows.filter((r) => Object.keys(r.cells).length > 0).map(({ row, cells }) => ({ row, cells })), problems };
}

/** Text of an Excel cell as the user typed it; dates are refused (Excel keeps no UTC offset, the API needs one). */
function cellText(value: ExcelJS.CellValue, at: { row: number; field: string }, problems: CellProblem[]): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) {
    problems.push({ ...at, message: 'an Excel date has no UTC offset: write the time as text, e.g. 2026-11-20T08:00:00+08:00' });
    return '';
  }
  if (typeof value === 'object') {
    if ('richText' in value) return value.richText.map((t) => t.text).join('');
    if ('text' in value) return String(value.text);
    if ('result' in value) return cellText(value.result as ExcelJS.CellValue, at, problems);
    if ('error' in value) return '';
  }
  return String(value);
}

/** The first worksheet of an .xlsx workbook: row 1 names the columns. */
export async function parseXlsx(content: Buffer): Promise<Sheet> {
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(content as unknown as ArrayBuffer);
  } catch (err) {
    throw new SheetError(`not a readable .xlsx workbook (${(err as Error).message})`);
  }
  const sheet = workbook.worksheets[0];
  if (!sheet) throw new SheetError('the workbook has no worksheet');
  const problems: CellProblem[] = [];
  const width = sheet.columnCount;
  const header: string[] = [];
  for (let c = 1; c <= width; c++) header.push(cellText(sheet.getRow(1).getCell(c).value, { row: 1, field: `column ${c}` }, problems));
  while (header.length && header[header.length - 1].trim() === '') header.pop();
  const records: string[][] = [header];
  for (let r = 2; r <= sheet.rowCount; r++) {
    const row = sheet.getRow(r);
    const values: string[] = [];
    for (let c = 1; c <= Math.max(width, header.length); c++) values.push(cellText(row.getCell(c).value, { row: r, field: header[c - 1] ?? `column ${c}` }, problems));
    // Keep the row numbers the user sees: an empty row is an empty record, skipped later.
    records.push(values);
  }
  return fromRecords(records, problems);
}

export async function parseSheet(format: UploadFormat, content: Buffer): Promise<Sheet> {
  if (format === 'xlsx') return parseXlsx(content);
  const text = new TextDecoder('utf-8', { fatal: true });
  let decoded: string;
  try {
    decoded = text.decode(content);
  } catch {
    throw new SheetError('the CSV file is not UTF-8 text (save it as "CSV UTF-8")');
  }
  return fromRecords(parseCsv(decoded));
}
