#!/usr/bin/env node
// Compiles libs/ and services/ to dist/ for the container image: CommonJS,
// decorator metadata (NestJS needs it), the same SWC settings as
// scripts/run.js and jest, and the @trace/* path aliases of
// tsconfig.base.json rewritten to relative requires. The image then runs
// plain `node dist/services/<name>/src/main.js` with production dependencies
// only: no TypeScript, no compile step at start-up.
//   node scripts/build-dist.js [outDir]
// (dist/scripts/create-topics.js is compiled too, for compose's kafka-init job.)
const fs = require('node:fs');
const path = require('node:path');
const { transformFileSync } = require('@swc/core');

const root = path.resolve(__dirname, '..');
const out = path.resolve(root, process.argv[2] ?? 'dist');
const { compilerOptions } = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8'));
const aliases = Object.entries(compilerOptions.paths).map(([alias, [target]]) => [alias, target.replace(/\.ts$/, '')]);

function* sources(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(p);
    else if (/\.ts$/.test(entry.name) && !/\.(spec|d)\.ts$/.test(entry.name)) yield p;
  }
}

fs.rmSync(out, { recursive: true, force: true });
let count = 0;
// The services, and the one-shot topic job the compose file runs with the same image.
const files = [...sources(path.join(root, 'libs')), ...sources(path.join(root, 'services')), path.join(root, 'scripts/create-topics.ts')];
{
  for (const file of files) {
    const rel = path.relative(root, file);
    let { code } = transformFileSync(file, {
      swcrc: false,
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
    });
    for (const [alias, target] of aliases) {
      let to = path.relative(path.dirname(rel), target).split(path.sep).join('/');
      if (!to.startsWith('.')) to = `./${to}`;
      code = code.split(`require("${alias}")`).join(`require("${to}")`);
    }
    const dest = path.join(out, rel.replace(/\.ts$/, '.js'));
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, code);
    count++;
  }
}
// Data the code requires at run time (the EPCIS JSON Schema and XSDs, …): copied as they are.
function* assets(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* assets(p);
    else if (/\.(json|xsd)$/.test(entry.name) && !/^(project|tsconfig.*|package)\.json$/.test(entry.name)) yield p;
  }
}
let copied = 0;
for (const file of [...assets(path.join(root, 'libs')), ...assets(path.join(root, 'services'))]) {
  const dest = path.join(out, path.relative(root, file));
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(file, dest);
  copied++;
}
console.log(`compiled ${count} files and copied ${copied} data files to ${path.relative(root, out) || '.'}`);
