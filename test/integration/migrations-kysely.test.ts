import { beforeAll, describe, expect, test } from 'vitest';
import { PG, reachable } from '../fixtures/db-services.mjs';
import {
  countsOn,
  expectOutcomesInEveryMode,
  expectTrackerFaults,
  expectUntracked,
  gaugesOf,
  outcomesOf,
  runModes,
  runSteps,
  type ModeRun,
  type Start,
  type Step,
} from '../fixtures/migrations-path-runs.js';
import { PREFIX, recreateDatabases } from '../support/migration-runs.js';

/**
 * Kysely 0.28 on real PostgreSQL: every Migrator constructed is a source, counted with its own
 * getMigrations() and read again after its runs. The folder holds 3 migrations (and a text file,
 * not one for FileMigrationProvider). Each step constructs a new Migrator, as migrate scripts do.
 */
const CJS = 'test/fixtures/migrations-kysely-app.cjs';
const ESM = 'test/fixtures/migrations-kysely-app.mjs';
// Each run its own database: Kysely's introspection (how getMigrations() checks for its table)
// scans every schema and fails when another schema's table is dropped while it runs.
const DATABASE = 'odm_mig_kysely';
const databaseOf = (run: number) => `${DATABASE}_${run}`;
// In CI a missing server fails the run; locally the suite is skipped.
const required = process.env.CI === 'true';
const available = await reachable(PG.port, PG.host);

const ON = { PROMETHEUS_EXPORT_MIGRATIONS: 'true', PROMETHEUS_DB_ALIASES: `ky=${PG.host}:${PG.port}` };

/** How each run starts its app; `connection` is the label its source gets, when it is found. */
const MODES: Record<string, { start: Start; script: string; env: Record<string, string>; connection?: string; timer?: boolean }> = {
  'plain, require': { start: 'plain', script: CJS, env: {} },
  'require, PROMETHEUS_DB_ALIASES': { start: 'preload', script: CJS, env: ON, connection: 'ky' },
  'require, setting off': { start: 'preload', script: CJS, env: {} },
  'require, tracker throwing': { start: 'faults', script: CJS, env: ON },
  'plain, import': { start: 'plain', script: ESM, env: { KY_ALIAS: 'kypool' } },
  'import with PROMETHEUS_ESM_HOOK, setDbAlias on the pool, refresh timer': {
    start: 'preload',
    script: ESM,
    env: { ...ON, PROMETHEUS_ESM_HOOK: 'true', KY_ALIAS: 'kypool', PROMETHEUS_MIGRATIONS_REFRESH_SECONDS: '1' },
    connection: 'kypool',
    timer: true,
  },
  'import without the ESM hook': { start: 'preload', script: ESM, env: { ...ON, KY_ALIAS: 'kypool' } },
};

/** The app's steps and the gauges after each, for a mode whose source is found on `connection` (and re-read every second with `timer`). */
function steps(connection: string | undefined, timer = false): Step[] {
  const after = countsOn(connection);
  return [
    { path: '/status', gauges: after(0, 3) },
    { path: '/to-2', gauges: after(2, 1) },
    { path: '/latest', gauges: after(3, 0) },
    { path: '/down', gauges: after(2, 1) },
    { path: '/tables', gauges: after(2, 1) },
    // Migrators on a Kysely whose server is down: the app gets the error; their source (another
    // database) cannot be read (one line) and has no series.
    { path: '/db-down', gauges: after(2, 1) },
    { path: '/db-down', gauges: after(2, 1) },
    { path: '/logged', gauges: after(2, 1) },
    // The app destroys its Kysely: nothing is left to read the source with; at its next read
    // (the timer's) it leaves the gauges, rather than keep a value nobody can refresh.
    { path: '/destroy', gauges: timer ? [] : after(2, 1) },
  ];
}

const DOWN = { ran: [], error: 'connect ECONNREFUSED 127.0.0.1:1' };

describe.skipIf(!available && !required)(`Kysely Migrator (${CJS}, ${ESM})`, () => {
  let runs: Record<string, ModeRun>;

  beforeAll(async () => {
    await recreateDatabases('pg', Object.keys(MODES).map((_, i) => databaseOf(i)));
    runs = await runModes(MODES, ({ start, script, env, connection, timer }, i) =>
      runSteps(script, start, { ...env, KY_DATABASE: databaseOf(i), KY_SCHEMA: 'app' }, steps(connection, timer)),
    );
  }, 240_000);

  test(`the server answers on ${PG.host}:${PG.port}`, () => {
    expect(available).toBe(true);
  });

  test('the runs went as planned without the package', () => {
    expect(outcomesOf(runs['plain, require']!)).toEqual([
      // Listed before any run: reading the counts created no table.
      { migrations: ['1_one pending', '2_two pending', '3_three pending'], tables: [] },
      { ran: ['Up 1_one Success', 'Up 2_two Success'], error: null },
      { ran: ['Up 3_three Success'], error: null },
      { ran: ['Down 3_three Success'], error: null },
      { tables: ['ky_one', 'ky_two', 'kysely_migration', 'kysely_migration_lock'] },
      DOWN,
      DOWN,
      { query: 40, error: 0 },
      { destroyed: true },
    ]);
  });

  test('the app gets exactly the same results, tables and query log events in every mode, and lives on', () => {
    expectOutcomesInEveryMode(runs, outcomesOf(runs['plain, require']!));
  });

  for (const name of ['require, PROMETHEUS_DB_ALIASES', 'import with PROMETHEUS_ESM_HOOK, setDbAlias on the pool, refresh timer']) {
    const { connection, timer } = MODES[name]!;
    test(`${name}: 0/3 when constructed, 2/1 after two, 3/0 after the third, a rollback 2/1, on connection "${connection}"; Migrators of one table count once`, () => {
      expect(gaugesOf(runs[name]!)).toEqual(steps(connection, timer).map((s) => s.gauges));
    });

    test(`${name}: the database down gives one warning line for all its Migrators and runs, and no series`, () => {
      expect(runs[name]!.stderr).toEqual([`${PREFIX}migrations: cannot read the kysely migrations of connection "default"; left out until a read succeeds: connect ECONNREFUSED 127.0.0.1:1`]);
    });
  }

  test('PROMETHEUS_EXPORT_MIGRATIONS off: nothing read, no series, no line', () => {
    expectUntracked(runs['require, setting off']!);
  });

  test("an ES module import without the ESM loader hook is not seen (Kysely's ES module build): no series, no line", () => {
    expectUntracked(runs['import without the ESM hook']!);
  });

  test('the tracker throwing (ODM_FAULTS=recorders): no series; the migration sites are reported once each', () => {
    expectTrackerFaults(runs['require, tracker throwing']!, ['collector migrations', 'kysely migrations source']);
  });
});
