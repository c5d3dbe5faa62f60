import { Workbook } from 'exceljs';
import { cellValue, FSMA_COLUMNS, MISSING, type FsmaRow } from './fsma-sheet';

/**
 * The same rows as the CSV in one worksheet: typed cells (dates as dates,
 * quantities as numbers) so that sorting works, a frozen header row with an
 * auto-filter, and MISSING cells filled red so that gaps stand out.
 * Text goes in as plain strings (never formulas), neutralised like the CSV so
 * that both formats carry the same values.
 */
export async function toXlsx(rows: FsmaRow[], meta: { title: string }): Promise<Buffer> {
  const wb = new Workbook();
  wb.creator = 'product-trace';
  wb.title = meta.title;
  const ws = wb.addWorksheet('FSMA 204', { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = FSMA_COLUMNS.map((c) => ({
    header: c.header,
    key: c.key,
    width: c.key === 'eventDate' ? 22 : Math.min(60, Math.max(12, c.header.length + 2)),
    style: c.key === 'eventDate' ? { numFmt: 'yyyy-mm-dd hh:mm:ss"Z"' } : {},
  }));
  ws.getRow(1).font = { bold: true };
  for (const row of rows) {
    const added = ws.addRow(FSMA_COLUMNS.map((c) => cellValue(row, c.key)));
    added.eachCell((cell) => {
      if (cell.value === MISSING) {
        cell.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFFC7CE' } };
        cell.font = { bold: true, color: { argb: 'FF9C0006' } };
      }
    });
  }
  ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: FSMA_COLUMNS.length } };
  return Buffer.from(await wb.xlsx.writeBuffer());
}
