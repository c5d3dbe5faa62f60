#!/usr/bin/env node
// Runs a TypeScript entry point with SWC compiling on the fly (decorator
// metadata included, which NestJS needs), resolving the workspace's path
// aliases from tsconfig.base.json. Usage: node scripts/run.js <entry.ts>
const path = require('node:path');
const root = path.resolve(__dirname, '..');
process.env.SWC_NODE_PROJECT ??= path.join(root, 'tsconfig.base.json');
require('@swc-node/register');
const entry = process.argv[2];
if (!entry) {
  console.error('usage: node scripts/run.js <entry.ts>');
  process.exit(64);
}
require(path.resolve(root, entry));
