import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { reachable } from '../fixtures/db-services.mjs';
import {
  dbSamples,
  failedSites,
  headerOnly,
  migrationGauges,
  MODES,
  packageLines,
  packageLinesBecome,
  recreateDatabases,
  runScript,
  scrapeAfter,
  SERVERS,
  serverEnv,
  startMode,
  testKnex,
  type Mode,
  type ScriptRun,
  type ScriptStep,
  type ServerName,
} from '../fixtures/migrations-knex-umzug-typeorm-runs.js';
import type { Exposition } from '../support/exposition.js';
import type { RunningApp } from '../support/processes.js';

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
    const apps: Partial<Record<Mode, RunningApp>> = {};
    const runs = {} as Record<Mode, ScriptRun>;
    /** After the first two steps (instances created, no statement of the app yet). */
    const idle = {} as Record<'on' | 'off', Exposition>;
    let final: Record<'on' | 'off', Exposition>;

    beforeAll(async () => {
      const names = MODES.flatMap((mode) => [database(mode), `${database(mode)}_lib`]);
      await recreateDatabases(server, names);
      for (const mode of MODES) {
        const db = testKnex(server, database(mode), { directory: MAIN });
        await db.migrate.up();
        await db.migrate.up();
        await db.destroy();
      }
      const steps = script(server);
      await Promise.all(
        MODES.map(async (mode) => {
          const env = {
            ...serverEnv(server),
            MIG_DB: database(mode),
            MIG_LIB_DB: `${database(mode)}_lib`,
            PROMETHEUS_DB_ALIASES: `mig=${host}:${port}/${database(mode)},down=${host}:1`,
          };
          const app = (apps[mode] = await startMode(APP, mode, env));
          const first = await runScript(app, mode, database(mode), steps.slice(0, 2));
          if (mode === 'on' || mode === 'off') idle[mode] = mode === 'on' ? await app.scrape() : await scrapeAfter(app, 1500);
          const rest = await runScript(app, mode, database(mode), steps.slice(2));
          runs[mode] = { outcomes: [...first.outcomes, ...rest.outcomes], gauges: [...first.gauges, ...rest.gauges] };
        }),
      );
      await packageLinesBecome(apps.on!, DOWN_WARNING, 1);
      await packageLinesBecome(apps.faults!, /ODM001 knex migrations refresh/, 1);
      final = { on: await apps.on!.scrape(), off: await apps.off!.scrape() };
    }, 120_000);

    afterAll(async () => {
      await Promise.all(Object.values(apps).map((app) => app.stop()));
    });

    test(`the server answers on ${host}:${port}`, () => {
      expect(available).toBe(true);
    });

    const steps = script(server);
    steps.forEach(({ step, args, gauges }, i) => {
      if (gauges === undefined) return;
      test(`step ${i + 1} ${step} ${args?.name ?? ''}: gauges ${JSON.stringify(gauges)}`, () => {
        expect(runs.on.gauges[i]).toEqual(gauges);
      });
    });

    test('the library instance, the missing folder and the database that is down give no series; the script ends at mig 5/0, primary 0/2', () => {
      expect(migrationGauges(final.on)).toEqual({ mig: [5, 0], primary: [0, 2] });
    });

    test('the database that is down gives exactly one warning line naming tool and connection, and nothing else is logged', () => {
      expect(packageLines(apps.on!.stderr())).toEqual([expect.stringMatching(DOWN_WARNING)]);
    });

    test('the app gets exactly its results, errors, query events and rows in every mode', () => {
      const outcomes = runs.plain.outcomes as Array<{ result?: unknown; message?: string }>;
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
      for (const mode of ['on', 'off', 'faults'] as const) expect(runs[mode].outcomes, mode).toEqual(runs.plain.outcomes);
    });

    test('reading creates no table: the library database stays empty, the unrun source has no table', () => {
      const { tables } = (runs.on.outcomes[13] as { result: { tables: string[] } }).result;
      expect(tables).not.toContain('aliased_migrations');
      expect(tables).toEqual((runs.plain.outcomes[13] as { result: { tables: string[] } }).result.tables);
    });

    test('with the setting off nothing is read: no connection and no statement before the app runs one, even with a refresh timer, and the families have HELP/TYPE only', () => {
      expect(dbSamples(idle.off, 'mig')).toEqual([]);
      for (const family of ['django_migrations_applied_total', 'django_migrations_unapplied_total']) expect(headerOnly(final.off, family), family).toBe(true);
      expect(packageLines(apps.off!.stderr())).toEqual([]);
      // The same moment with the setting on: one read through one new connection of the app's
      // pool (knex's version check on it, then hasTable and the select).
      const vendor = server === 'pg' ? 'postgresql' : 'mysql';
      expect(dbSamples(idle.on, 'mig')).toEqual([
        `django_db_execute_total{"alias":"mig","vendor":"${vendor}"} 3`,
        `django_db_new_connections_total{"alias":"mig","vendor":"${vendor}"} 1`,
        `django_db_query_duration_seconds_count{"alias":"mig","vendor":"${vendor}"} 3`,
      ]);
    });

    test('fault injection: each contained site logs ODM001 once, and the process lives on', () => {
      const sites = failedSites(apps.faults!.stderr());
      expect(sites.filter((site) => site.includes('migrations')).sort()).toEqual(['knex migrations discovery', 'knex migrations refresh']);
      expect(new Set(sites).size).toBe(sites.length);
      expect(apps.faults!.child.exitCode).toBe(null);
    });
  });
}
