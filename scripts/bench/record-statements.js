// Preloaded into the app by plans.ts (NODE_OPTIONS=--require …): records every
// distinct statement text (transaction control aside) the process
// sends through `pg` (after SIGWINCH), with the schema its connection's search_path names, the
// parameters of its first call (as the text pg sends) and how often it ran,
// and writes them as JSON to BENCH_STATEMENTS_FILE on SIGUSR2. plans.ts then
// EXPLAINs each one on tables grown to 1k, 10k and 1M rows: the statements
// come from the code as it runs, so the check follows the code without a
// hand-kept list of queries to go stale.
const { Client } = require('pg');
const { prepareValue } = require('pg/lib/utils');
const { writeFileSync } = require('node:fs');

// Anything but bare transaction control: a simple-protocol text may carry several statements ("START …; WITH …"),
// which plans.ts splits.
const CONTROL = /^\s*(begin|commit|rollback|start transaction|set|listen|unlisten|savepoint|release)\b[^;]*;?\s*$/i;
const seen = new Map();

function encode(v) {
  const p = prepareValue(v);
  if (Buffer.isBuffer(p)) return { base64: p.toString('base64') };
  return p;
}

function record(client, text, values) {
  if (typeof text !== 'string' || CONTROL.test(text)) return;
  const options = (client.connectionParameters && client.connectionParameters.options) || '';
  const schema = (/search_path=([A-Za-z0-9_]+)/.exec(options) || [])[1] || 'public';
  const key = `${schema}\u0000${text}`;
  const entry = seen.get(key);
  if (entry) entry.calls++;
  else {
    let params;
    try {
      params = values.map(encode);
    } catch {
      params = null; // a value pg itself could not send; the statement is listed, not explained
    }
    seen.set(key, { schema, text, params, calls: 1 });
  }
}

const query = Client.prototype.query;
Client.prototype.query = function recordedQuery(...args) {
  const first = args[0];
  if (first && typeof first === 'object' && Array.isArray(first.steps)) {
    // A pipeline (libs/platform pipelinedTransaction: START with a statement, a statement with COMMIT): each step with its own parameters.
    for (const step of first.steps) record(this, step.text, step.values || []);
  } else {
    const text = typeof first === 'string' ? first : first && first.text;
    record(this, text, (typeof first === 'object' && first && first.values) || (Array.isArray(args[1]) ? args[1] : []));
  }
  return query.apply(this, args);
};

// SIGWINCH: forget what was recorded so far (start-up's migrations and loads), so the record is the workload's.
process.on('SIGWINCH', () => {
  seen.clear();
  process.stderr.write('STATEMENTS_RESET\n');
});

process.on('SIGUSR2', () => {
  writeFileSync(process.env.BENCH_STATEMENTS_FILE, JSON.stringify([...seen.values()]));
  process.stderr.write(`STATEMENTS_RECORDED ${seen.size}\n`);
});
