#!/usr/bin/env node
// npm start: the embedded app (services/embedded/src/main.ts) compiled ahead of time by
// scripts/build-dist.js (the image's build: same SWC settings as scripts/run.js) into
// dist/start/<hash of the sources>/, and run from there in this process. Not through
// @swc-node/register (scripts/run.js): the compiler loaded in the app and what it keeps (its
// native binding, source-map support, every compiled source) were 110 MB of the idle app's
// 295 MB resident set, 183 MB compiled ahead (scripts/bench/README.md, "Memory").
// A tree is compiled once per state of the sources (about a second) and reused after that;
// compiled trees not used for a week are removed.
//   node scripts/start.js        (what `npm start` runs)
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');

function* inputs(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* inputs(p);
    else if (/\.(ts|json|xsd)$/.test(entry.name) && !/\.spec\.ts$/.test(entry.name)) yield p;
  }
}

// The contents, not the times: a checkout that changes nothing reuses the tree, any edit compiles again.
const hash = crypto.createHash('sha256');
const files = [...inputs(path.join(root, 'libs')), ...inputs(path.join(root, 'services'))].sort();
for (const file of [...files, path.join(root, 'tsconfig.base.json'), path.join(__dirname, 'build-dist.js')]) {
  hash.update(`${path.relative(root, file)}\0`).update(fs.readFileSync(file)).update('\0');
}
const base = path.join(root, 'dist', 'start');
const dir = path.join(base, hash.digest('hex').slice(0, 16));

if (!fs.existsSync(path.join(dir, '.complete'))) {
  // Compiled beside, then renamed into place: two starts at once never run a half-written tree.
  const tmp = `${dir}.${process.pid}.tmp`;
  const built = spawnSync(process.execPath, [path.join(__dirname, 'build-dist.js'), tmp], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (built.status !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    console.error(`npm start: compiling the sources failed (node scripts/build-dist.js exited ${built.status ?? built.signal})`);
    process.exit(1);
  }
  fs.writeFileSync(path.join(tmp, '.complete'), '');
  try {
    fs.renameSync(tmp, dir);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another start put the same tree in place first
  }
  const weekAgo = Date.now() - 7 * 24 * 3600 * 1000;
  for (const other of fs.readdirSync(base)) {
    const p = path.join(base, other);
    if (p !== dir && fs.statSync(p).mtimeMs < weekAgo) fs.rmSync(p, { recursive: true, force: true });
  }
}
// Marks the tree as used (its mtime), so the pruning above keeps trees that are still started.
fs.utimesSync(dir, new Date(), new Date());
require(path.join(dir, 'services/embedded/src/main.js'));
