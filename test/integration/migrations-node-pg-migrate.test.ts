import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PG, reachable } from '../fixtures/db-services.mjs';
import {
  counts,
  countsOn,
  expectOutcomesInEveryMode,
  expectTrackerFaults,
  expectUntracked,
  gaugesOf,
  runModes,
  runSteps,
  settledGauges,
  type ModeRun,
  type Start,
  type Step,
} from '../fixtures/migrations-path-runs.js';
import { migrationNames } from '../../src/migrations/node-pg-migrate-files.js';
import { PREFIX, recreateDatabases } from '../support/migration-runs.js';
import { ROOT, spawnApp, type RunningApp } from '../support/processes.js';

/**
 * node-pg-migrate 9 on real PostgreSQL: each runner() call is a source (database, table, folder),
 * read after every run. The folder holds 3 migrations (and a hidden file, not one by its rules).
 */
const CJS = 'test/fixtures/migrations-node-pg-migrate-app.cjs';
const ESM = 'test/fixtures/migrations-node-pg-migrate-app.mjs';
const DATABASE = 'odm_mig_npm';
// In CI a missing server fails the run; locally the suite is skipped.
const required = process.env.CI === 'true';
const available = await reachable(PG.port, PG.host);

const ON = { PROMETHEUS_EXPORT_MIGRATIONS: 'true', PROMETHEUS_DB_ALIASES: `npm=${PG.host}:${PG.port}/${DATABASE}` };

/** How each run starts its app; `connection` is the label its source gets, when it is found. */
const MODES: Record<string, { start: Start; script: string; env: Record<string, string>; connection?: string }> = {
  'plain, require': { start: 'plain', script: CJS, env: {} },
  'require, databaseUrl': { start: 'preload', script: CJS, env: ON, connection: 'npm' },
  'require, setting off': { start: 'preload', script: CJS, env: {} },
  'require, tracker throwing': { start: 'faults', script: CJS, env: ON },
  'plain, import': { start: 'plain', script: ESM, env: { NPM_CLIENT: '1' } },
  'import with PROMETHEUS_ESM_HOOK, dbClient': { start: 'preload', script: ESM, env: { ...ON, PROMETHEUS_ESM_HOOK: 'true', NPM_CLIENT: '1' }, connection: 'npmclient' },
  'import without the ESM hook': { start: 'preload', script: ESM, env: { ...ON, NPM_CLIENT: '1' } },
};

/** The app's runs and the gauges after each, for a mode whose source is found on `connection`. */
function steps(connection: string | undefined): Step[] {
  const after = countsOn(connection);
  return [
    { path: '/up-2', gauges: after(2, 1) },
    { path: '/up', gauges: after(3, 0) },
    { path: '/down', gauges: after(2, 1) },
    // The same runs against a server that is down: the app gets the error; the source found for
    // that database cannot be read (one line) and has no series.
    { path: '/db-down', gauges: after(2, 1) },
    { path: '/db-down', gauges: after(2, 1) },
  ];
}

const DOWN = { error: 'connect ECONNREFUSED 127.0.0.1:1' };
const OUTCOMES = [{ ran: ['1_one', '2_two'] }, { ran: ['3_three'] }, { ran: ['3_three'] }, DOWN, DOWN];
const CANNOT_READ_DOWN = `${PREFIX}migrations: cannot read the node-pg-migrate migrations of connection "default"; left out until a read succeeds: connect ECONNREFUSED 127.0.0.1:1`;

/** The test's database, created once for both suites (each run in its own schema). */
let created: Promise<void> | undefined;
function createDatabase(): Promise<void> {
  return (created ??= recreateDatabases('pg', [DATABASE]));
}

describe.skipIf(!available && !required)(`node-pg-migrate runner() (${CJS}, ${ESM})`, () => {
  let runs: Record<string, ModeRun>;

  beforeAll(async () => {
    await createDatabase();
    // Each run its own schema (migrations table and tables) and advisory lock.
    runs = await runModes(MODES, ({ start, script, env, connection }, i) =>
      runSteps(script, start, { ...env, NPM_DATABASE: DATABASE, NPM_SCHEMA: `run_${i}`, NPM_LOCK: String(7000 + i) }, steps(connection)),
    );
  }, 240_000);

  test(`the server answers on ${PG.host}:${PG.port}`, () => {
    expect(available).toBe(true);
  });

  test('the app gets exactly the same migration runs and errors in every mode, and lives on', () => {
    expectOutcomesInEveryMode(runs, OUTCOMES);
  });

  for (const name of ['require, databaseUrl', 'import with PROMETHEUS_ESM_HOOK, dbClient']) {
    const { connection } = MODES[name]!;
    test(`${name}: 2 of 3 applied gives 2/1, the third run 3/0, a rollback 2/1, on connection "${connection}"`, () => {
      expect(gaugesOf(runs[name]!)).toEqual(steps(connection).map((s) => s.gauges));
    });

    test(`${name}: the database down gives one warning line for all its runs, and no series`, () => {
      expect(runs[name]!.stderr).toEqual([CANNOT_READ_DOWN]);
    });
  }

  test('PROMETHEUS_EXPORT_MIGRATIONS off: nothing read, no series, no line', () => {
    expectUntracked(runs['require, setting off']!);
  });

  test('an ES module import without the ESM loader hook is not seen (node-pg-migrate is an ES module): no series, no line', () => {
    expectUntracked(runs['import without the ESM hook']!);
  });

  test('the tracker throwing (ODM_FAULTS=recorders): no series; the migration sites are reported once each', () => {
    expectTrackerFaults(runs['require, tracker throwing']!, ['collector migrations', 'node-pg-migrate migrations source']);
  });
});

/**
 * node-pg-migrate's CLI runs in a process of its own, without the preload: the app tracks the
 * CLI's table and folder with trackMigrations (the documented recipe, in the fixture) and the
 * refresh timer picks up each CLI run.
 */
const CLI_APP = 'test/fixtures/migrations-node-pg-migrate-cli-app.mjs';
const CLI = `${ROOT}node_modules/node-pg-migrate/bin/node-pg-migrate.js`;

describe.skipIf(!available && !required)(`node-pg-migrate's CLI, tracked with trackMigrations (${CLI_APP})`, () => {
  const schema = 'cli';
  let app: RunningApp;

  /** One CLI run, as a deploy step would run it: no preload, the database in DATABASE_URL. */
  const cli = (...args: string[]) =>
    promisify(execFile)(process.execPath, [CLI, ...args, '--migrations-dir', 'test/fixtures/migrations-node-pg-migrate', '--schema', schema, '--create-schema', '--lock-value', '7100'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: `postgres://${PG.user}@${PG.host}:${PG.port}/${DATABASE}` },
    });

  beforeAll(async () => {
    await createDatabase();
    app = await spawnApp(CLI_APP, {
      env: { PROMETHEUS_EXPORT_MIGRATIONS: 'true', PROMETHEUS_MIGRATIONS_REFRESH_SECONDS: '1', NPM_DATABASE: DATABASE, NPM_SCHEMA: schema },
      timeoutMs: 45_000,
    });
  }, 60_000);
  afterAll(() => app?.stop());

  test('before any CLI run 0/3; after `up 2` 2/1; after `up` 3/0; after `down` 2/1, without restarting the app', async () => {
    expect(await settledGauges(app, counts('default', 0, 3))).toEqual(counts('default', 0, 3));
    await cli('up', '2');
    expect(await settledGauges(app, counts('default', 2, 1))).toEqual(counts('default', 2, 1));
    await cli('up');
    expect(await settledGauges(app, counts('default', 3, 0))).toEqual(counts('default', 3, 0));
    await cli('down');
    expect(await settledGauges(app, counts('default', 2, 1))).toEqual(counts('default', 2, 1));
    expect(app.stderr()).toBe('');
  }, 120_000);
});

/** Which files are migrations, and their names: node-pg-migrate's own listing and naming rules. */
describe('the migrations of a folder, as node-pg-migrate counts them', () => {
  const migrationModule = createRequire(`${ROOT}package.json`).resolve('node-pg-migrate/migration');
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'odm-npm-files-'));
    for (const file of ['1_one.sql', '2_two.js', '3_three.ts', '4_four.up.sql', '4_four.down.sql', '.hidden.sql', 'README.md']) await writeFile(join(dir, file), '');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const IGNORED = '\\..*|README\\.md';
  const names = async (options: Record<string, unknown>) => [...(await migrationNames(migrationModule, { dir, ...options }))].sort();

  test('every file but hidden ones is a migration, named without its extension; a name without a numeric prefix fails as the runner does', async () => {
    await expect(names({})).rejects.toThrow('Cannot determine numeric prefix for "README.md"');
  });

  test('ignorePattern leaves files out (replacing the hidden-files default); .up.sql and .down.sql are two migrations under the default loader', async () => {
    await expect(names({ ignorePattern: 'README\\.md' })).rejects.toThrow('Cannot determine numeric prefix for ".hidden.sql"');
    expect(await names({ ignorePattern: IGNORED })).toEqual(['1_one', '2_two', '3_three', '4_four.down', '4_four.up']);
  });

  test('the `sql` loader pairs .up.sql with .down.sql: one migration', async () => {
    expect(await names({ ignorePattern: IGNORED, migrationLoaderStrategies: [{ extensions: ['.sql'], loader: 'sql' }] })).toEqual(['1_one', '2_two', '3_three', '4_four']);
  });

  test('with useGlob, dir and ignorePattern are glob patterns', async () => {
    // Absolute, like `dir`: whether glob's relative '**/4_*' matches these absolute paths depends on
    // the working directory (it held in one checkout and not in a clone under the temp folder).
    expect(await names({ dir: `${dir}/*.sql`, useGlob: true, ignorePattern: `${dir}/4_*` })).toEqual(['1_one']);
  });
});
