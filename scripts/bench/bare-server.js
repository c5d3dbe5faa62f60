// The baseline of scan-load.ts: a bare Node `http` server answering the bytes
// the app answered (saved by scan-load.ts in DIR), with the same content types,
// so the difference in CPU per request is what the app does around them.
//   node scripts/bench/bare-server.js DIR PORT
const { createServer } = require('node:http');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const [dir, port] = process.argv.slice(2);
const load = (name, type) => ({ body: readFileSync(join(dir, name)), type });
const health = load('health', 'application/json; charset=utf-8');
const json = load('scan.json', 'application/json; charset=utf-8');
const html = load('scan.html', 'text/html; charset=utf-8');
createServer((req, res) => {
  const a = req.url.startsWith('/health') ? health : (req.headers.accept || '').includes('text/html') ? html : json;
  res.writeHead(200, { 'content-type': a.type, 'content-length': a.body.length });
  res.end(a.body);
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\n'));
