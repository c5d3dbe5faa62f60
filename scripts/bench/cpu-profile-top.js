// The top functions of a V8 CPU profile (node --cpu-prof) by self time, as a
// share of the busy (non-idle) samples, optionally only between two monotonic
// µs stamps (scan-load.ts prints them as PHASE lines with SCAN_LOAD_CPU_PROF).
//   node scripts/bench/cpu-profile-top.js PROFILE.cpuprofile [FROM_US TO_US] [TOP=25]
const { readFileSync } = require('node:fs');
const { relative } = require('node:path');

const [file, fromArg, toArg, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node scripts/bench/cpu-profile-top.js PROFILE.cpuprofile [FROM_US TO_US] [TOP]');
  process.exit(64);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const from = fromArg ? Number(fromArg) : -Infinity;
const to = toArg ? Number(toArg) : Infinity;
const top = Number(topArg ?? 25);

const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const label = (n) => {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url ? `${relative(process.cwd(), url.replace(/^file:\/\//, ''))}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
};

const self = new Map();
let busy = 0;
let idle = 0;
let t = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i];
  if (t < from || t > to) continue;
  const node = nodes.get(profile.samples[i]);
  const name = node.callFrame.functionName;
  if (name === '(idle)') {
    idle++;
    continue;
  }
  busy++;
  const key = name === '(garbage collector)' || name === '(program)' ? name : label(node);
  self.set(key, (self.get(key) ?? 0) + 1);
}
console.log(`${busy} busy samples, ${idle} idle (${((busy / Math.max(1, busy + idle)) * 100).toFixed(0)} % busy)`);
for (const [key, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((n / busy) * 100).toFixed(1).padStart(5)} %  ${key}`);
