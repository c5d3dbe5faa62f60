import { QueryFailedError, QueryResult, type DataSource, type EntitySubscriberInterface } from 'typeorm';
import { afterCommit, createServiceDataSource, CUSTOM_PLAN, deferringWrites, deferToCommit, initializeServiceDatabase, pipelinedTransaction, readAlongWithNext, sendDeferred } from '@trace/platform';
import { dropSchemas, testDatabaseUrl, uniquePrefix } from '@trace/testing';

/**
 * Every service's pool prepares a parameterised statement by name once it has
 * run twice on a connection (StatementCachingClient), plain or pipelined. One
 * connection here, so what it prepared is what pg_prepared_statements shows.
 */
describe('statements prepared per connection', () => {
  const prefix = uniquePrefix('stmt');
  let ds: DataSource;
  const INSERT = 'INSERT INTO items (id, label) VALUES ($1, $2)';
  const COUNT = 'SELECT count(*)::int AS n FROM items WHERE label = $1';

  const prepared = async (): Promise<{ name: string; statement: string }[]> =>
    ds.query(`SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'trace\\_%' ORDER BY name`);

  beforeAll(async () => {
    // One connection (and no migration run, which would want a second one).
    ds = createServiceDataSource({ service: 'stmt', url: testDatabaseUrl(), schemaPrefix: prefix, poolSize: 1, entities: [], migrations: [], synchronize: true });
    await initializeServiceDatabase(ds);
    await ds.query('CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL)');
  });

  afterAll(async () => {
    await ds?.destroy();
    await dropSchemas(testDatabaseUrl(), prefix);
  });

  it('prepares a statement on its second run and reuses it after', async () => {
    expect(await ds.query(COUNT, ['a'])).toEqual([{ n: 0 }]);
    expect((await prepared()).map((p) => p.statement)).not.toContain(COUNT);
    await ds.query(COUNT, ['a']);
    await ds.query(COUNT, ['a']);
    const mine = (await prepared()).filter((p) => p.statement === COUNT);
    expect(mine).toHaveLength(1);
    // The answers are the statement's, by name as before.
    await ds.query(INSERT, [1, 'a']);
    expect(await ds.query(COUNT, ['a'])).toEqual([{ n: 1 }]);
  });

  it('leaves a statement marked CUSTOM_PLAN unprepared, planned with its values every run', async () => {
    const marked = `${CUSTOM_PLAN} SELECT count(*)::int AS n FROM items WHERE ($1::text IS NULL OR label = $1)`;
    for (let i = 0; i < 3; i++) expect(await ds.query(marked, ['a'])).toEqual([{ n: 1 }]);
    expect((await prepared()).map((p) => p.statement)).not.toContain(marked);
    expect((await prepared()).map((p) => p.statement)).toContain(COUNT);
  });

  it('prepares the statements of pipelined transactions, and a failed one leaves the connection usable', async () => {
    const write = (id: number) =>
      pipelinedTransaction(ds, async (m) => {
        await m.query(INSERT, [id, 'p']);
        if (!deferToCommit(m, 'UPDATE items SET label = $2 WHERE id = $1', [id, 'q'])) throw new Error('not pipelined');
      });
    await write(10);
    await write(11);
    await write(12);
    // The same text twice in one round trip, on its first prepared run: prepared once.
    const twice = 'UPDATE items SET label = label || $2 WHERE id = $1';
    await ds.query(twice, [10, '']);
    await pipelinedTransaction(ds, async (m) => {
      deferToCommit(m, twice, [10, '']);
      deferToCommit(m, twice, [11, '']);
    });
    const names = (await prepared()).map((p) => p.statement);
    expect(names).toContain(INSERT);
    expect(names).toContain('UPDATE items SET label = $2 WHERE id = $1');
    // A duplicate key: the pipeline fails after the statements it prepared (or not) — the next ones still work,
    // pipelined and plain.
    await expect(write(12)).rejects.toThrow(/duplicate key/);
    await write(13);
    // A statement prepared (on its second run) in the same round trip as one that fails: whether it exists on
    // the connection is not known afterwards, and its next runs must work either way.
    const touch = 'UPDATE items SET label = label WHERE id = $1';
    const touchThenDuplicate = () =>
      pipelinedTransaction(ds, async (m) => {
        deferToCommit(m, touch, [10]);
        await m.query(INSERT, [10, 'dup']);
      });
    await expect(touchThenDuplicate()).rejects.toThrow(/duplicate key/);
    await expect(touchThenDuplicate()).rejects.toThrow(/duplicate key/);
    for (let i = 0; i < 3; i++) await ds.query(touch, [10]);
    await pipelinedTransaction(ds, async (m) => {
      await m.query(touch, [10]);
    });
    await ds.query(INSERT, [14, 'p']);
    expect(await ds.query(`SELECT id, label FROM items WHERE id >= 10 ORDER BY id`)).toEqual([
      { id: 10, label: 'q' },
      { id: 11, label: 'q' },
      { id: 12, label: 'q' },
      { id: 13, label: 'q' },
      { id: 14, label: 'p' },
    ]);
  });

  it('answers a statement that cannot be prepared with its error every time, and runs the next ones', async () => {
    const broken = 'SELECT nope FROM items WHERE id = $1';
    for (let i = 0; i < 3; i++) await expect(ds.query(broken, [1])).rejects.toThrow(/column "nope" does not exist/);
    for (let i = 0; i < 3; i++) {
      await expect(
        pipelinedTransaction(ds, async (m) => {
          await m.query(broken, [1]);
        }),
      ).rejects.toThrow(/column "nope" does not exist/);
    }
    expect(await ds.query(COUNT, ['p'])).toEqual([{ n: 1 }]);
    expect((await prepared()).map((p) => p.statement)).not.toContain(broken);
    // A value the driver cannot serialise fails before the server sees it (and pg closes the statement).
    const unserialisable = { toPostgres: () => { throw new Error('cannot serialise'); } };
    for (let i = 0; i < 2; i++) await expect(ds.query(COUNT, [unserialisable])).rejects.toThrow(/cannot serialise/);
    expect(await ds.query(COUNT, ['p'])).toEqual([{ n: 1 }]);
  });

  it('sends a read along with the next statement of a pipelined transaction, and fails it with that statement', async () => {
    const trips: string[] = [];
    const [client] = (ds.driver as unknown as { master: { _clients: { query: (...a: unknown[]) => unknown }[] } }).master._clients;
    const query = client.query;
    client.query = function (this: unknown, ...args: unknown[]) {
      const first = args[0] as { steps?: { text: string }[] } | string;
      trips.push(typeof first === 'string' ? first : (first.steps ?? []).map((st) => st.text).join('; '));
      return query.apply(this, args);
    };
    try {
      const read = await pipelinedTransaction(ds, async (m) => {
        const along = readAlongWithNext<{ n: number }>(m, COUNT, ['q']);
        expect(along).toBeDefined();
        await m.query('SELECT id FROM items WHERE id = $1 FOR UPDATE', [10]);
        return along;
      });
      expect(read).toEqual([{ n: 4 }]);
      expect(trips).toEqual([`START TRANSACTION; SELECT id FROM items WHERE id = $1 FOR UPDATE; ${COUNT}`, 'COMMIT']);
      // Outside a pipelined transaction there is nothing to ride along with.
      expect(readAlongWithNext(ds.manager, COUNT, ['q'])).toBeUndefined();
      let along: Promise<unknown> | undefined;
      await expect(
        pipelinedTransaction(ds, async (m) => {
          along = readAlongWithNext(m, COUNT, ['q']);
          await m.query('SELECT nope FROM items WHERE id = $1', [10]);
        }),
      ).rejects.toThrow(/column "nope" does not exist/);
      await expect(along).rejects.toThrow(/column "nope" does not exist/);
    } finally {
      client.query = query;
    }
  });

  it('runs a prepared statement called with a callback, as pg\'s Pool.query calls its clients, failures included', async () => {
    const pool = (ds.driver as unknown as { master: { query: (text: string, values: unknown[], cb: (err: Error | null, res?: { rows: unknown[] }) => void) => unknown } }).master;
    const viaCallback = (text: string, values: unknown[]) =>
      new Promise<unknown[]>((resolve, reject) => pool.query(text, values, (err, res) => (err ? reject(err) : resolve((res as { rows: unknown[] }).rows))));
    const LABELS = 'SELECT label FROM items WHERE id = $1';
    for (let i = 0; i < 3; i++) expect(await viaCallback(LABELS, [14])).toEqual([{ label: 'p' }]);
    expect((await prepared()).map((p) => p.statement)).toContain(LABELS);
    // A value pg cannot serialise: the callback gets the error, and the text runs again under a new name.
    const unserialisable = { toPostgres: () => { throw new Error('cannot serialise'); } };
    await expect(viaCallback(LABELS, [unserialisable])).rejects.toThrow(/cannot serialise/);
    expect(await viaCallback(LABELS, [14])).toEqual([{ label: 'p' }]);
    await expect(viaCallback('SELECT nope FROM items WHERE id = $1', [1])).rejects.toThrow(/column "nope" does not exist/);
    expect(await viaCallback(LABELS, [14])).toEqual([{ label: 'p' }]);
  });

  it('prepares afresh a statement whose result columns changed under it (a migration of another replica)', async () => {
    const all = 'SELECT * FROM items WHERE id = $1';
    for (let i = 0; i < 3; i++) expect(await ds.query(all, [14])).toEqual([{ id: 14, label: 'p' }]);
    await ds.query('ALTER TABLE items ADD COLUMN note text');
    // PostgreSQL refuses the prepared one once: the retry runs the text under a new name.
    await expect(ds.query(all, [14])).rejects.toThrow(/cached plan must not change result type/);
    expect(await ds.query(all, [14])).toEqual([{ id: 14, label: 'p', note: null }]);
    expect(await ds.query(all, [14])).toEqual([{ id: 14, label: 'p', note: null }]);
  });

  it('prepares nothing with preparedStatements false (DB_PREPARED_STATEMENTS=false)', async () => {
    const plain = createServiceDataSource({ service: 'stmt', url: testDatabaseUrl(), schemaPrefix: prefix, poolSize: 1, entities: [], migrations: [], synchronize: true, preparedStatements: false });
    await plain.initialize();
    try {
      for (let i = 0; i < 3; i++) expect(await plain.query(COUNT, ['p'])).toEqual([{ n: 1 }]);
      expect(await plain.query(`SELECT count(*)::int AS n FROM pg_prepared_statements`)).toEqual([{ n: 0 }]);
    } finally {
      await plain.destroy();
    }
  });

  it('runs after-commit hooks once per key, after the COMMIT, and none after a rollback', async () => {
    const ran: string[] = [];
    await pipelinedTransaction(ds, async (m) => {
      for (const id of [20, 21, 22]) {
        await m.query(INSERT, [id, 'h']);
        expect(afterCommit(m, () => ran.push(`wake ${id}`), 'wake')).toBe(true);
      }
      afterCommit(m, () => ran.push('unkeyed 1'));
      afterCommit(m, () => ran.push('unkeyed 2'));
      expect(ran).toEqual([]);
    });
    expect(ran).toEqual(['wake 20', 'unkeyed 1', 'unkeyed 2']);

    ran.length = 0;
    await expect(
      pipelinedTransaction(ds, async (m) => {
        afterCommit(m, () => ran.push('rolled back'), 'wake');
        await m.query(INSERT, [20, 'duplicate']);
      }),
    ).rejects.toThrow(/duplicate key/);
    // The next transaction on the same connection starts with no hook left over.
    await pipelinedTransaction(ds, async (m) => {
      await m.query(INSERT, [23, 'h']);
    });
    expect(ran).toEqual([]);
    expect(afterCommit(ds.manager, () => ran.push('no transaction'))).toBe(false);
  });

  describe("answers as TypeORM's query runner does (its broadcasts left out while nobody listens)", () => {
    it('shapes answers and failures the same: rows, [rows, count] for UPDATE and DELETE, structured results, QueryFailedError with the driver code', async () => {
      await pipelinedTransaction(ds, async (m) => {
        expect(await m.query(INSERT, [40, 'shape'])).toEqual([]);
        expect(await m.query('SELECT id, label FROM items WHERE id = $1', [40])).toEqual([{ id: 40, label: 'shape' }]);
        expect(await m.query('UPDATE items SET label = $2 WHERE id = $1 RETURNING id', [40, 'shaped'])).toEqual([[{ id: 40 }], 1]);
        expect(await m.query('DELETE FROM items WHERE id = $1', [-1])).toEqual([[], 0]);
        const structured = await m.queryRunner!.query('SELECT label FROM items WHERE id = $1', [40], true);
        expect(structured).toBeInstanceOf(QueryResult);
        expect(structured).toMatchObject({ records: [{ label: 'shaped' }], affected: 1, raw: [{ label: 'shaped' }] });
      });
      const failure = await pipelinedTransaction(ds, async (m) => {
        await m.query(INSERT, [41, 'first']);
        await m.query(INSERT, [40, 'duplicate']);
      }).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(QueryFailedError);
      // What the use cases read to answer 409 or retry a deadlock.
      expect(failure).toMatchObject({ code: '23505', driverError: { code: '23505' }, query: INSERT, parameters: [40, 'duplicate'] });
      // The transaction rolled back: the row before the failure is not there.
      expect(await ds.query('SELECT count(*)::int AS n FROM items WHERE id = 41')).toEqual([{ n: 0 }]);
    });

    it("hands statements and transaction events to subscribers that listen, waiting for their promises", async () => {
      const seen: string[] = [];
      const listener: EntitySubscriberInterface = {
        afterQuery: (e) => void seen.push(`query ${e.query.split(' ')[0]} ${e.success}`),
        beforeTransactionStart: () => void seen.push('start'),
        beforeTransactionCommit: () =>
          new Promise<void>((resolve) =>
            setTimeout(() => {
              seen.push('before commit (async)');
              resolve();
            }, 20),
          ),
        afterTransactionCommit: () => void seen.push('committed'),
      };
      ds.subscribers.push(listener);
      try {
        await pipelinedTransaction(ds, async (m) => {
          await m.query(INSERT, [42, 'heard']);
          deferToCommit(m, 'UPDATE items SET label = $2 WHERE id = $1', [42, 'heard twice']);
        });
      } finally {
        ds.subscribers.splice(ds.subscribers.indexOf(listener), 1);
      }
      // Deferred statements go with the COMMIT, past the runner: only the ones sent through it are heard.
      expect(seen).toEqual(['start', 'query INSERT true', 'before commit (async)', 'committed']);
      expect(await ds.query('SELECT label FROM items WHERE id = 42')).toEqual([{ label: 'heard twice' }]);
    });
  });

  describe('writes sent ahead (sendDeferred), as a capture sends each chunk', () => {
    const labelOf = async (id: number) => ((await ds.query('SELECT label FROM items WHERE id = $1', [id])) as { label: string }[])[0]?.label;

    it('commits writes sent before the transaction ended, the caller not waiting for them', async () => {
      await pipelinedTransaction(ds, async (m) => {
        const w = deferringWrites(m);
        expect(await w.query(INSERT, [30, 'ahead'])).toEqual([]);
        expect(sendDeferred(m)).toBe(true);
        await w.query(INSERT, [31, 'ahead']);
        sendDeferred(m);
        // A read queued behind them sees them.
        expect(await m.query('SELECT count(*)::int AS n FROM items WHERE label = $1', ['ahead'])).toEqual([{ n: 2 }]);
      });
      expect(await labelOf(30)).toBe('ahead');
      expect(await labelOf(31)).toBe('ahead');
    });

    it('fails the transaction with the error of a write sent ahead when nothing followed it (COMMIT would answer ROLLBACK)', async () => {
      await expect(
        pipelinedTransaction(ds, async (m) => {
          await m.query(INSERT, [32, 'kept?']);
          await deferringWrites(m).query(INSERT, [30, 'duplicate']);
          sendDeferred(m);
        }),
      ).rejects.toThrow(/duplicate key/);
      expect(await labelOf(32)).toBeUndefined();
      expect(await labelOf(30)).toBe('ahead');
    });

    it('fails the next statement with that error, not with "current transaction is aborted"', async () => {
      await expect(
        pipelinedTransaction(ds, async (m) => {
          await deferringWrites(m).query(INSERT, [31, 'duplicate']);
          sendDeferred(m);
          await m.query(INSERT, [33, 'after']);
        }),
      ).rejects.toThrow(/duplicate key/);
      expect(await labelOf(33)).toBeUndefined();
      // The connection is usable after.
      await pipelinedTransaction(ds, async (m) => m.query(INSERT, [33, 'after']));
      expect(await labelOf(33)).toBe('after');
    });

    it('is not available outside a pipelined transaction: writes run at once there', async () => {
      await ds.transaction(async (m) => {
        expect(sendDeferred(m)).toBe(false);
        expect(deferringWrites(m)).toBe(m);
      });
    });
  });
});
