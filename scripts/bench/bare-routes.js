// The baseline of http-adapter.ts: a bare Node `http` server answering the
// bytes the app answered (saved by http-adapter.ts in DIR): a GET with get.json,
// a POST, once its body is read to the end, with post.json and status 201.
// The difference in CPU per request is what the framework does around them.
//   node scripts/bench/bare-routes.js DIR PORT
const { createServer } = require('node:http');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const [dir, port] = process.argv.slice(2);
const get = readFileSync(join(dir, 'get.json'));
const post = readFileSync(join(dir, 'post.json'));
const type = 'application/json; charset=utf-8';
createServer((req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(200, { 'content-type': type, 'content-length': get.length });
    return res.end(get);
  }
  req.on('data', () => undefined);
  req.on('end', () => {
    res.writeHead(201, { 'content-type': type, 'content-length': post.length });
    res.end(post);
  });
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\n'));
