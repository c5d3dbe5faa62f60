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
  return query.apply(this, args);
};
process.on('SIGUSR2', () => process.stderr.write(`STATEMENTS ${statements}\n`));
