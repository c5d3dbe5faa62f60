// Preloaded into the app by write-path.ts (NODE_OPTIONS=--require …): counts
// every statement the process sends through `pg` (BEGIN and COMMIT included;
// TypeORM and the relays use the same client), and prints the count on
// SIGUSR2, so the benchmark can say how many statements one request costs.
// pg_stat_statements is not preloaded on the test PostgreSQL; this needs nothing from it.
const { Client } = require('pg');
let statements = 0;
const query = Client.prototype.query;
Client.prototype.query = function countedQuery(...args) {
  statements++;
  // BENCH_LOG_STATEMENTS=1: each statement's first words on stderr (what one request sends, in order).
  if (process.env.BENCH_LOG_STATEMENTS === '1') {
    const text = typeof args[0] === 'string' ? args[0] : args[0] && args[0].text;
    process.stderr.write(`STATEMENT ${String(text).replace(/\s+/g, ' ').slice(0, 100)}\n`);
  }
  return query.apply(this, args);
};
process.on('SIGUSR2', () => process.stderr.write(`STATEMENTS ${statements}\n`));

// BENCH_CPU_PROF_FILE: a CPU profile of the whole run (--cpu-prof is refused in
// NODE_OPTIONS), written on SIGWINCH, which write-path.ts sends before stopping the app.
if (process.env.BENCH_CPU_PROF_FILE) {
  const { Session } = require('node:inspector');
  const { writeFileSync } = require('node:fs');
  const session = new Session();
  session.connect();
  session.post('Profiler.enable', () => session.post('Profiler.start'));
  process.on('SIGWINCH', () =>
    session.post('Profiler.stop', (err, res) => {
      if (!err) writeFileSync(process.env.BENCH_CPU_PROF_FILE, JSON.stringify(res.profile));
      process.stderr.write(`CPU_PROFILE ${err ? err.message : 'written'}\n`);
    }),
  );
}
