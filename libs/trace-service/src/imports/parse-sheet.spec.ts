import { parseCsv, parseSheet } from './parse-sheet';

describe('CSV of an import', () => {
  it('reads quoted fields with commas, doubled quotes and line breaks, CRLF or LF, and ignores a byte-order mark', () => {
    expect(parseCsv('\ufeffa,b\r\n"x, y","say ""hi"""\n"two\nlines",\n')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['two\nlines', ''],
    ]);
  });

  it('keeps a blank line as an empty record, so row numbers stay those of the file', async () => {
    const sheet = await parseSheet('csv', Buffer.from('gtin,lot\n1,A\n\n2,B\n'));
    expect(sheet.rows).toEqual([
      { row: 2, cells: { gtin: '1', lot: 'A' } },
      { row: 4, cells: { gtin: '2', lot: 'B' } },
    ]);
  });

  it('drops empty cells and trims, and flags a row with more values than columns', async () => {
    const sheet = await parseSheet('csv', Buffer.from('gtin,lot\n 1 ,\n2,B,extra\n'));
    expect(sheet.rows[0]).toEqual({ row: 2, cells: { gtin: '1' } });
    expect(sheet.problems).toEqual([{ row: 3, field: '(row)', message: expect.stringContaining('more values') }]);
  });

  it('refuses an unclosed quote, a duplicate or nameless column, and text that is not UTF-8', async () => {
    await expect(parseSheet('csv', Buffer.from('gtin\n"1\n'))).rejects.toThrow('quoted field');
    await expect(parseSheet('csv', Buffer.from('gtin,gtin\n1,2\n'))).rejects.toThrow('twice');
    await expect(parseSheet('csv', Buffer.from('gtin,,lot\n'))).rejects.toThrow('no name');
    await expect(parseSheet('csv', Buffer.from([0x67, 0xff, 0x0a]))).rejects.toThrow('UTF-8');
  });
});
