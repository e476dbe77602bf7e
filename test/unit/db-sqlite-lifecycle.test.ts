import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BetterSqlite3MetricsInstrumentation } from '../../src/db/better-sqlite3.js';
import { setDbAlias } from '../../src/db/public.js';
import { DbRecorder } from '../../src/db/recorder.js';
import { DB_STATE, setRuntime } from '../../src/db/runtime.js';
import { setContainmentLog } from '../../src/contain.js';
import { writeExposition } from '../../src/exposition/prometheus-text.js';
import { Registry } from '../../src/store/registry.js';
import { parseExposition, vectorOf } from '../support/exposition.js';

/**
 * The adapter in this process, stopped and restarted: better-sqlite3 keeps the constructor it was
 * given, which records nothing while stopped and records once per call again after a restart.
 */

const require = createRequire(import.meta.url);

interface SqliteStatement {
  get(...params: unknown[]): unknown;
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  close(): unknown;
}
type DatabaseClass = (new (filename: string) => SqliteDatabase) & ((filename: string) => SqliteDatabase);

const registry = new Registry({ namespace: '', latencyBuckets: [1], maxSeriesPerMetric: 100 });
const runtime = { recorder: new DbRecorder(registry), rules: [], detailedPgErrors: false };
const instrumentation = new BetterSqlite3MetricsInstrumentation();
let Database: DatabaseClass;

beforeAll(() => {
  setRuntime(runtime);
  instrumentation.enable();
  Database = require('better-sqlite3') as DatabaseClass;
});

afterAll(() => {
  instrumentation.disable();
  setRuntime(undefined);
});

/** `[opens, statements, durations]` for an alias, from a scrape of the registry. */
async function counts(alias: string): Promise<Array<string | undefined>> {
  const out: string[] = [];
  await writeExposition(registry.collect(), out);
  const exp = parseExposition(out.join(''));
  const series = `{"alias":"${alias}","vendor":"sqlite"} `;
  return ['django_db_new_connections_total', 'django_db_execute_total', 'django_db_query_duration_seconds_count'].map((name) =>
    vectorOf(exp, name).find((line) => line.startsWith(series))?.slice(series.length),
  );
}

/** One open and one statement: the row must come back whether or not anything is recorded. */
async function openAndQuery(alias: string): Promise<SqliteDatabase> {
  const db = setDbAlias(new Database(':memory:'), alias);
  expect(db.prepare('SELECT ? AS n').get(7)).toEqual({ n: 7 });
  await Promise.resolve(); // the open is counted once the constructor returned
  return db;
}

describe('better-sqlite3 stopped and restarted in-process', () => {
  test('running: one open, one statement, one duration', async () => {
    const db = await openAndQuery('running');
    expect(await counts('running')).toEqual(['1', '1', '1']);
    db.close();
  });

  test('stopped: the same constructor opens and queries unchanged, and records nothing', async () => {
    const before = await openAndQuery('before-stop');
    setRuntime(undefined);
    try {
      const during = await openAndQuery('stopped');
      expect(before.prepare('SELECT 1 AS one').get()).toEqual({ one: 1 });
      expect(await counts('stopped')).toEqual([undefined, undefined, undefined]);
      expect(await counts('before-stop')).toEqual(['1', '1', '1']);
      // A database opened while stopped stays untracked after a restart.
      setRuntime(runtime);
      expect(during.prepare('SELECT 2 AS two').get()).toEqual({ two: 2 });
      expect(await counts('stopped')).toEqual([undefined, undefined, undefined]);
    } finally {
      setRuntime(runtime);
    }
  });

  test('restarted: re-enabling keeps one wrapper, so each call counts once; calling without `new` too', async () => {
    instrumentation.disable();
    instrumentation.enable();
    const again = require('better-sqlite3') as DatabaseClass;
    expect(again).toBe(Database);
    const db = setDbAlias(Database(':memory:'), 'restarted');
    await Promise.resolve();
    db.prepare('SELECT 1').get();
    expect(await counts('restarted')).toEqual(['1', '1', '1']);
    expect(db).toBeInstanceOf(Database);
  });
});

describe('better-sqlite3 with the tracking of connections throwing', () => {
  test('opens, failed opens and statements reach the app unchanged; each site is reported once', async () => {
    const logged: string[] = [];
    setContainmentLog((line) => logged.push(line));
    // An own `set` on the process's connection map shadows WeakMap's for the test's duration.
    DB_STATE.connections.set = () => {
      throw new Error('injected fault');
    };
    try {
      for (let i = 0; i < 2; i++) {
        const db = await openAndQuery('faulty');
        expect(Object.getOwnPropertyNames(db)).not.toContain('prepare'); // left as the driver made it
        expect(() => new Database('/no/such/dir/x.db')).toThrow(new TypeError('Cannot open database because the directory does not exist'));
      }
    } finally {
      delete (DB_STATE.connections as Partial<WeakMap<object, unknown>>).set;
    }
    expect(await counts('faulty')).toEqual([undefined, undefined, undefined]);
    expect(logged.map((line) => /ODM001 (.+?) failed;/.exec(line)?.[1])).toEqual(['better-sqlite3 connect', 'better-sqlite3 connect failure']);
  });
});
