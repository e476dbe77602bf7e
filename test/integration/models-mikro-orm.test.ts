import { beforeAll, describe, expect, test } from 'vitest';
import { PG, reachable } from '../fixtures/db-services.mjs';
import { briefOutcomes, runFixtureModes, type FixtureRun } from '../fixtures/db-runs.js';
import type { Exposition } from '../support/exposition.js';
import { containedFailures } from '../support/faults.js';
import { freshDatabase } from '../support/prisma.js';

const APP = 'test/fixtures/models-mikro-orm-app.mjs';
const DB = 'odm_models_mikro_orm';
// In CI a missing server fails the run; locally the suite is skipped.
const required = process.env.CI === 'true';
const available = await reachable(PG.port, PG.host);

const PLAN = {
  'persist a new dog': 'ok',
  'em.create a dog': 'ok',
  'change a dog': 'ok',
  'flush with nothing changed': 'ok',
  'a duplicate name fails': '23505',
  'a new owner with a new dog': 'ok',
  'remove a dog': 'ok',
  'an unregistered entity': 'ok',
  'fork with a fresh event manager': 'ok',
  'change a dog in a transaction': 'ok',
  'dogs after the unit of work': 'ok',
  insertMany: 'ok',
  insert: 'ok',
  nativeUpdate: 'ok',
  nativeDelete: 'ok',
  'a failing insertMany': '23505',
  'repository nativeDelete': 'ok',
  'dogs at the end': 'ok',
  'drop schema': 'ok',
  close: 'ok',
  'callback calls': '0',
};

function modelLines(exp: Exposition | undefined): string[] {
  return (exp?.samples ?? [])
    .filter((s) => s.name.startsWith('django_model_'))
    .map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`)
    .sort();
}

/**
 * Each site that fails, once: the mikro-orm counting steps and the zero series, and the pg hooks the
 * ORM's queries go through (the recorder or store they record to throws the same way); with the
 * recorders broken, the scrape's collection of the migration gauges too.
 */
const SITES = ['db statement count', 'db statement end', 'mikro-orm model bulk count', 'mikro-orm model count', 'model zero series', 'pg connect count'];
const FAULT_SITES = { 'faults-recorders': ['collector migrations', ...SITES], 'faults-store': SITES };

function failedSites(stderr: string): string[] {
  return containedFailures(stderr).map((line) => /ODM001 (.+?) failed;/.exec(line)?.[1] ?? line);
}

describe.skipIf(!available && !required)(`MikroORM 6 entities through its EventSubscriber (${APP})`, () => {
  let runs: Record<'plain' | 'instrumented', FixtureRun>;
  let bulk: Record<'instrumented' | 'faults-recorders' | 'faults-store', FixtureRun>;

  beforeAll(async () => {
    await freshDatabase(DB);
    runs = await runFixtureModes(APP, ['plain', 'instrumented'], { MIKRO_ORM_DB: DB });
    bulk = await runFixtureModes(APP, ['instrumented', 'faults-recorders', 'faults-store'], { MIKRO_ORM_DB: DB, PROMETHEUS_EXPORT_MODEL_BULK: 'true' });
  }, 120_000);

  test(`the server answers on ${PG.host}:${PG.port}`, () => {
    expect(available).toBe(true);
  });

  test('the script ran as planned, and the app sees exactly what it sees without the package', () => {
    expect(briefOutcomes(runs.plain.outcomes)).toEqual(PLAN);
    expect(runs.plain.outcomes['dogs after the unit of work']).toEqual({ result: ['fresh:0', 'pup:0', 'rex:5'] });
    // insertMany gives one key for its two rows on PostgreSQL: rows are counted from its input.
    expect(runs.plain.outcomes.insertMany).toEqual({ result: 1 });
    for (const run of [runs.instrumented, bulk.instrumented]) {
      expect(run.outcomes).toEqual(runs.plain.outcomes);
      expect(run.stderr).toBe('');
    }
  });

  test('each change set of a flush counts before its query: dog inserts 5 (one fails), updates 2, deletes 1; owner (defineEntity) 1 insert', () => {
    // Inserts: persist, em.create, the duplicate, the dog flushed with a new owner, the fresh-event-manager fork.
    // Updates: a change, and one in a transaction; the flush with nothing changed sends nothing. Cat is not registered.
    expect(modelLines(runs.instrumented.metrics)).toEqual([
      'django_model_deletes_total{"model":"dog"} 1',
      'django_model_deletes_total{"model":"owner"} 0',
      'django_model_inserts_total{"model":"dog"} 5',
      'django_model_inserts_total{"model":"owner"} 1',
      'django_model_updates_total{"model":"dog"} 2',
      'django_model_updates_total{"model":"owner"} 0',
    ]);
  });

  test('PROMETHEUS_EXPORT_MODEL_BULK=true: native writes add their rows after success: inserts +3, updates +3, deletes +3', () => {
    // insertMany 2 + insert 1 (the failing insertMany adds nothing); nativeUpdate 3; nativeDelete 2 + repository nativeDelete 1.
    expect(modelLines(bulk.instrumented.metrics)).toEqual([
      'django_model_deletes_total{"model":"dog"} 4',
      'django_model_deletes_total{"model":"owner"} 0',
      'django_model_inserts_total{"model":"dog"} 8',
      'django_model_inserts_total{"model":"owner"} 1',
      'django_model_updates_total{"model":"dog"} 5',
      'django_model_updates_total{"model":"owner"} 0',
    ]);
  });

  for (const mode of ['faults-recorders', 'faults-store'] as const) {
    test(`${mode}: identical results, the process lives on, each failing site reported once`, () => {
      const run = bulk[mode];
      expect(run.outcomes).toEqual(runs.plain.outcomes);
      expect(run.alive).toBe(true);
      expect(failedSites(run.stderr).sort()).toEqual(FAULT_SITES[mode]);
      for (const line of containedFailures(run.stderr)) expect(line).toContain('injected fault: ');
      expect(modelLines(run.metrics)).toEqual([]);
    });
  }
});
