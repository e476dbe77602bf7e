import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { reachable } from '../fixtures/db-services.mjs';
import type { Exposition } from '../support/exposition.js';
import {
  dbSamples,
  expectFaultSites,
  expectNoTableCreated,
  expectNothingExported,
  expectSameOutcomes,
  migrationGauges,
  MODES,
  packageLines,
  recreateDatabases,
  runEveryMode,
  scriptModes,
  SERVERS,
  serverEnv,
  stepGaugeTests,
  stopApps,
  testKnex,
  type Mode,
  type ScriptStep,
  type ServerName,
} from '../support/migration-runs.js';

const APP = 'test/fixtures/migrations-knex-app.mjs';
const MAIN = 'test/fixtures/migrations-knex/migrations';
// In CI a missing server fails the run; locally the suite is skipped.
const required = process.env.CI === 'true';

/** Main's third migration, applied outside the app: the gauges learn of it only at the next read. */
async function applyThirdByHand(server: ServerName, database: string): Promise<void> {
  const db = testKnex(server, database);
  try {
    await db.schema.createTable('main_c', (t) => t.increments());
    await db('knex_migrations').insert({ name: '003_main_c.cjs', batch: 99, migration_time: new Date() });
  } finally {
    await db.destroy();
  }
}

/**
 * The script every mode runs; the gauges are those expected with migrations on. The database
 * starts with 2 of main's 3 migrations applied (by the test, before the app starts).
 */
function script(server: ServerName): ScriptStep[] {
  return [
    { step: 'create', args: { name: 'main' }, gauges: { mig: [2, 1] } },
    // Same database, table and folder: one source, not 4/2.
    { step: 'create', args: { name: 'again' }, gauges: { mig: [2, 1] } },
    { step: 'latest', args: { name: 'main' }, gauges: { mig: [3, 0] } },
    { step: 'rollback', args: { name: 'main' }, gauges: { mig: [2, 1] } },
    // A distinct source on the same alias (its table not created yet): summed.
    { step: 'create', args: { name: 'other' }, gauges: { mig: [2, 3] } },
    { step: 'latest', args: { name: 'other' }, gauges: { mig: [4, 1] } },
    // A run that rejects refreshes too: it reads what was applied by hand meanwhile.
    { step: 'up-missing', args: { name: 'main' }, before: (database) => applyThirdByHand(server, database), gauges: { mig: [5, 0] } },
    { step: 'create', args: { name: 'aliased' }, gauges: { mig: [5, 0], primary: [0, 2] } },
    { step: 'create', args: { name: 'library' } },
    { step: 'create', args: { name: 'nodir' } },
    { step: 'create', args: { name: 'down' } },
    { step: 'latest', args: { name: 'down' } },
    { step: 'seen' },
    { step: 'rows' },
  ];
}

const DOWN_WARNING = /^migrations: cannot read the knex migrations of connection "down"; left out until a read succeeds: connect ECONNREFUSED 127\.0\.0\.1:1$/;

for (const server of ['pg', 'mysql'] as const) {
  const { host, port, client } = SERVERS[server];
  const available = await reachable(port, host);
  const database = (mode: Mode) => `odm_mig_knex_${server}_${mode}`;

  describe.skipIf(!available && !required)(`knex migrations on ${client} (${APP})`, () => {
    const steps = script(server);
    const modes = scriptModes();
    let final: Record<'on' | 'off', Exposition>;

    beforeAll(async () => {
      await recreateDatabases(server, MODES.flatMap((mode) => [database(mode), `${database(mode)}_lib`]));
      for (const mode of MODES) {
        const db = testKnex(server, database(mode), { directory: MAIN });
        await db.migrate.up();
        await db.migrate.up();
        await db.destroy();
      }
      await runEveryMode(modes, {
        app: APP,
        steps,
        database,
        env: (mode) => ({
          ...serverEnv(server),
          MIG_DB: database(mode),
          MIG_LIB_DB: `${database(mode)}_lib`,
          PROMETHEUS_DB_ALIASES: `mig=${host}:${port}/${database(mode)},down=${host}:1`,
        }),
        downWarning: DOWN_WARNING,
        lastFaultSite: 'knex migrations refresh',
      });
      final = { on: await modes.apps.on!.scrape(), off: await modes.apps.off!.scrape() };
    }, 120_000);

    afterAll(() => stopApps(modes));

    test(`the server answers on ${host}:${port}`, () => {
      expect(available).toBe(true);
    });

    stepGaugeTests(steps, modes);

    test('the library instance, the missing folder and the database that is down give no series; the script ends at mig 5/0, primary 0/2', () => {
      expect(migrationGauges(final.on)).toEqual({ mig: [5, 0], primary: [0, 2] });
    });

    test('the database that is down gives exactly one warning line naming tool and connection, and nothing else is logged', () => {
      expect(packageLines(modes.apps.on!.stderr())).toEqual([expect.stringMatching(DOWN_WARNING)]);
    });

    test('the app gets exactly its results, errors, query events and rows in every mode', () => {
      const outcomes = modes.runs.plain.outcomes as Array<{ result?: unknown; message?: string }>;
      // The plan: the runs resolved or rejected as written, and no statement of ours reached the app's listeners.
      // The test applied the first two as batches 1 and 2.
      expect(outcomes[2]).toEqual({ result: [3, ['003_main_c.cjs']] });
      expect(outcomes[3]).toEqual({ result: [3, ['003_main_c.cjs']] });
      expect(outcomes[6]?.message).toBe('Migration "missing.cjs" not found.');
      expect(outcomes[11]).toMatchObject({ code: 'ECONNREFUSED' });
      expect((outcomes[13] as { result: { migrations: unknown[] } }).result.migrations).toEqual([
        { name: '001_main_a.cjs', batch: 1 },
        { name: '002_main_b.cjs', batch: 2 },
        { name: '003_main_c.cjs', batch: 99 },
      ]);
      expectSameOutcomes(modes);
    });

    test('reading creates no table: the library database stays empty, the unrun source has no table', () => {
      expectNoTableCreated(modes, 13, 'aliased_migrations');
    });

    test('with the setting off nothing is read: no connection and no statement before the app runs one, even with a refresh timer, and the families have HELP/TYPE only', () => {
      expect(dbSamples(modes.idle.off, 'mig')).toEqual([]);
      expectNothingExported(modes, final.off);
      // The same moment with the setting on: one read through one new connection of the app's
      // pool (knex's version check on it, then hasTable and the select).
      const vendor = server === 'pg' ? 'postgresql' : 'mysql';
      expect(dbSamples(modes.idle.on, 'mig')).toEqual([
        `django_db_execute_total{"alias":"mig","vendor":"${vendor}"} 3`,
        `django_db_new_connections_total{"alias":"mig","vendor":"${vendor}"} 1`,
        `django_db_query_duration_seconds_count{"alias":"mig","vendor":"${vendor}"} 3`,
      ]);
    });

    test('fault injection: each contained site logs ODM001 once, and the process lives on', () => {
      expectFaultSites(modes, ['knex migrations discovery', 'knex migrations refresh']);
    });
  });
}
