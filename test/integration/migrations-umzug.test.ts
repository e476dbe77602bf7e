import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PG, reachable } from '../fixtures/db-services.mjs';
import type { Exposition } from '../support/exposition.js';
import {
  dbSamples,
  expectFaultSites,
  expectNothingExported,
  expectSameOutcomes,
  migrationGauges,
  MODES,
  packageLines,
  recreateDatabases,
  runEveryMode,
  scriptModes,
  serverEnv,
  stepGaugeTests,
  stopApps,
  type Mode,
  type ScriptStep,
} from '../support/migration-runs.js';

const APP = 'test/fixtures/migrations-umzug-app.mjs';
const MIGRATIONS = 'test/fixtures/migrations-umzug/migrations/*.cjs';
// In CI a missing server fails the run; locally the suite is skipped.
const required = process.env.CI === 'true';
const available = await reachable(PG.port, PG.host);

const database = (mode: Mode) => `odm_mig_umzug_${mode}`;
const jsonFile = (mode: Mode) => join(tmpdir(), `odm-mig-umzug-${process.pid}-${mode}.json`);

/** The test's own umzug on the mode's database (never preloaded), as the app's main instance is set up. */
async function withMainUmzug(mode: string, use: (umzug: Umzug<unknown>, sequelize: Sequelize) => Promise<unknown>): Promise<void> {
  const sequelize = new Sequelize(`postgres://${PG.user}@${PG.host}:${PG.port}/${mode}`, { logging: false });
  try {
    await use(new Umzug({ migrations: { glob: MIGRATIONS }, context: sequelize.getQueryInterface(), storage: new SequelizeStorage({ sequelize }), logger: undefined }), sequelize);
  } finally {
    await sequelize.close();
  }
}

/** Main's third migration, applied outside the app: the gauges learn of it only at the next read. */
function applyThirdByHand(db: string): Promise<void> {
  return withMainUmzug(db, async (umzug, sequelize) => {
    await sequelize.query('CREATE TABLE umzug_c (id integer)');
    await (umzug.storage as SequelizeStorage).logMigration({ name: '003_umzug_c.cjs' });
  });
}

/**
 * The script every mode runs; the gauges are those expected with migrations on. The database
 * starts with 2 of main's 3 migrations applied (by the test, before the app starts).
 */
const SCRIPT: ScriptStep[] = [
  { step: 'create', args: { name: 'main' }, gauges: { mig: [2, 1] } },
  // Same database, table and glob through another Sequelize: one source, not 4/2.
  { step: 'create', args: { name: 'again' }, gauges: { mig: [2, 1] } },
  { step: 'up', args: { name: 'main' }, gauges: { mig: [3, 0] } },
  { step: 'down', args: { name: 'main' }, gauges: { mig: [2, 1] } },
  // Another SequelizeStorage table on the same database (its table not created yet): summed.
  { step: 'create', args: { name: 'other' }, gauges: { mig: [2, 3] } },
  { step: 'up', args: { name: 'other' }, gauges: { mig: [4, 1] } },
  // A run that rejects refreshes too: it reads what was applied by hand meanwhile.
  { step: 'up-missing', args: { name: 'main' }, before: applyThirdByHand, gauges: { mig: [5, 0] } },
  // JSONStorage, named by setDbAlias on the Umzug; its file does not exist yet.
  { step: 'create', args: { name: 'files' }, gauges: { mig: [5, 0], files: [0, 2] } },
  { step: 'up', args: { name: 'files' }, gauges: { mig: [5, 0], files: [2, 0] } },
  // The app's own storage: `default`.
  { step: 'create', args: { name: 'custom' }, gauges: { mig: [5, 0], files: [2, 0], default: [1, 1] } },
  { step: 'create', args: { name: 'down' } },
  { step: 'up', args: { name: 'down' } },
  { step: 'seen' },
  { step: 'rows' },
];

const DOWN_WARNING = /^migrations: cannot read the umzug migrations of connection "down"; left out until a read succeeds: connect ECONNREFUSED 127\.0\.0\.1:1$/;

describe.skipIf(!available && !required)(`umzug migrations (${APP})`, () => {
  const modes = scriptModes();
  let final: Record<'on' | 'off', Exposition>;

  beforeAll(async () => {
    await recreateDatabases('pg', MODES.map(database));
    for (const mode of MODES) {
      await rm(jsonFile(mode), { force: true });
      await withMainUmzug(database(mode), (umzug) => umzug.up({ step: 2 }));
    }
    await runEveryMode(modes, {
      app: APP,
      steps: SCRIPT,
      database,
      env: (mode) => ({
        ...serverEnv('pg'),
        MIG_DB: database(mode),
        MIG_JSON: jsonFile(mode),
        PROMETHEUS_DB_ALIASES: `mig=${PG.host}:${PG.port}/${database(mode)},down=${PG.host}:1`,
      }),
      downWarning: DOWN_WARNING,
      lastFaultSite: 'umzug migrations discovery',
    });
    final = { on: await modes.apps.on!.scrape(), off: await modes.apps.off!.scrape() };
  }, 120_000);

  afterAll(async () => {
    await stopApps(modes);
    await Promise.all(MODES.map((mode) => rm(jsonFile(mode), { force: true })));
  });

  test(`the server answers on ${PG.host}:${PG.port}`, () => {
    expect(available).toBe(true);
  });

  stepGaugeTests(SCRIPT, modes);

  test('the database that is down gives no series, and exactly one warning line naming tool and connection; nothing else is logged', () => {
    expect(migrationGauges(final.on)).toEqual({ mig: [5, 0], files: [2, 0], default: [1, 1] });
    expect(packageLines(modes.apps.on!.stderr())).toEqual([expect.stringMatching(DOWN_WARNING)]);
  });

  test("the app gets exactly its results and errors, its listeners and Sequelize logger see exactly its own events and statements, and the storages hold the same rows, in every mode", () => {
    const outcomes = modes.runs.plain.outcomes as Array<{ result?: unknown; message?: string }>;
    // The plan: the runs resolved or rejected as written.
    expect(outcomes[2]).toEqual({ result: [{ name: '003_umzug_c.cjs', path: expect.stringMatching(/migrations-umzug\/migrations\/003_umzug_c\.cjs$/) }] });
    expect(outcomes[6]?.message).toBe('Couldn\'t find migration to apply with name "missing.cjs"');
    expect(outcomes[11]).toMatchObject({ class: 'ConnectionRefusedError' });
    expect((outcomes[13] as { result: unknown }).result).toMatchObject({
      sequelizeMeta: [{ name: '001_umzug_a.cjs' }, { name: '002_umzug_b.cjs' }, { name: '003_umzug_c.cjs' }],
      otherMeta: [{ name: '001_plain_x.cjs' }, { name: '002_plain_y.cjs' }],
      json: ['001_plain_x.cjs', '002_plain_y.cjs'],
      custom: ['001_plain_x.cjs'],
    });
    expectSameOutcomes(modes);
  });

  test('with the setting off nothing is read: no connection and no statement before the app runs one, even with a refresh timer, and the families have HELP/TYPE only', () => {
    expect(dbSamples(modes.idle.off, 'mig')).toEqual([]);
    expectNothingExported(modes, final.off);
    // The same moment with the setting on: one read through the app's Sequelize, whose first
    // query opens 2 connections (one loads the type OIDs; 3 setup statements in all), then
    // tableExists and the select.
    expect(dbSamples(modes.idle.on, 'mig')).toEqual([
      'django_db_execute_total{"alias":"mig","vendor":"postgresql"} 5',
      'django_db_new_connections_total{"alias":"mig","vendor":"postgresql"} 2',
      'django_db_query_duration_seconds_count{"alias":"mig","vendor":"postgresql"} 5',
    ]);
  });

  test('fault injection: each contained site logs ODM001 once, and the process lives on', () => {
    expectFaultSites(modes, ['umzug migrations discovery']);
  });
});
