import { beforeAll, describe, expect, test } from 'vitest';
import { PG, reachable } from '../fixtures/db-services.mjs';
import { briefOutcomes, runFixtureModes, type FixtureRun } from '../fixtures/db-runs.js';
import type { Exposition } from '../support/exposition.js';
import { containedFailures } from '../support/faults.js';
import { freshDatabase, generatePrismaClient } from '../support/prisma.js';

const APP = 'test/fixtures/models-prisma-app.mjs';
const DB = 'odm_models_prisma';
// In CI a missing server fails the run; locally the suite is skipped.
const required = process.env.CI === 'true';
const available = await reachable(PG.port, PG.host);

/** The fixture's steps as `briefOutcomes` shows them (Prisma error codes for the failures). */
const PLAN = {
  'create a dog with a new owner': 'ok',
  'create a dog': 'ok',
  'a duplicate create fails': 'P2002',
  'update a dog': 'ok',
  'updating a missing dog fails': 'P2025',
  'upsert that creates': 'ok',
  'upsert that updates': 'ok',
  'nested create under an owner update': 'ok',
  'batch transaction': 'ok',
  'interactive transaction': 'ok',
  'delete a dog': 'ok',
  'deleting a missing dog fails': 'P2025',
  'an unmapped model': 'ok',
  'raw SQL': 'ok',
  reads: 'ok',
  createMany: 'ok',
  createManyAndReturn: 'ok',
  updateMany: 'ok',
  updateManyAndReturn: 'ok',
  'a failing createMany': 'P2002',
  deleteMany: 'ok',
  'bulk in a batch transaction': 'ok',
  'dogs at the end': 'ok',
  'registering again': 'ok',
  'a second name for Dog': 'ok',
  'instrumenting the returned client again': 'ok',
  'not a client': 'ok',
  'not a name map': 'ok',
  'an unknown model': 'ok',
  close: 'ok',
  'callback calls': '0',
};

/** One line each for the misuses, in every run (the package's API logs them, preload or not). */
const MISUSE_LINES = [
  'otel-django-metrics: withModelOperations: Prisma model dog is already registered as model "dog"; "hound" is ignored',
  'otel-django-metrics: withModelOperations: expected a Prisma client; returned unchanged',
  "otel-django-metrics: withModelOperations: expected a map of Prisma model names to model names, such as { Dog: 'dog' }; the client is returned unchanged",
  'otel-django-metrics: withModelOperations: the Prisma client has no model "Bird"; ignored',
];

/** The three model families, one sorted line per sample. */
function modelLines(exp: Exposition | undefined): string[] {
  return (exp?.samples ?? [])
    .filter((s) => s.name.startsWith('django_model_'))
    .map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`)
    .sort();
}

function lines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line !== '' && !line.includes(' ODM001 '));
}

/**
 * Each site that fails, once: the prisma counting steps and the zero series, and the pg hooks the
 * ORM's queries go through (the recorder or store they record to throws the same way); with the
 * recorders broken, the scrape's collection of the migration gauges too.
 */
const SITES = ['db statement count', 'db statement end', 'model zero series', 'pg connect count', 'prisma model bulk count', 'prisma model count'];
const FAULT_SITES = { 'faults-recorders': ['collector migrations', ...SITES], 'faults-store': SITES };

function failedSites(stderr: string): string[] {
  return containedFailures(stderr).map((line) => /ODM001 (.+?) failed;/.exec(line)?.[1] ?? line);
}

describe.skipIf(!available && !required)(`Prisma 7 models through withModelOperations (${APP})`, () => {
  let runs: Record<'plain' | 'instrumented', FixtureRun>;
  let bulk: Record<'instrumented' | 'faults-recorders' | 'faults-store', FixtureRun>;

  beforeAll(async () => {
    const generation = await generatePrismaClient();
    console.info(`prisma generate: ${generation.generated ? `${generation.ms} ms` : 'up to date'}`);
    await freshDatabase(DB);
    runs = await runFixtureModes(APP, ['plain', 'instrumented'], { PRISMA_DB: DB });
    bulk = await runFixtureModes(APP, ['instrumented', 'faults-recorders', 'faults-store'], { PRISMA_DB: DB, PROMETHEUS_EXPORT_MODEL_BULK: 'true' });
  }, 180_000);

  test(`the server answers on ${PG.host}:${PG.port}`, () => {
    expect(available).toBe(true);
  });

  test('the script ran as planned, and the app sees exactly what it sees without the package', () => {
    expect(briefOutcomes(runs.plain.outcomes)).toEqual(PLAN);
    expect(runs.plain.outcomes['dogs at the end']).toEqual({ result: ['fido:4', 'pup:0', 'rex:1'] });
    for (const run of [runs.instrumented, bulk.instrumented]) expect(run.outcomes).toEqual(runs.plain.outcomes);
  });

  test('misuse is logged once per call and changes nothing; re-registering logs nothing', () => {
    expect(lines(runs.plain.stderr)).toEqual(MISUSE_LINES);
    expect(lines(runs.instrumented.stderr)).toEqual(MISUSE_LINES);
    expect(containedFailures(runs.instrumented.stderr)).toEqual([]);
  });

  test('instance writes counted before they run: creates 4, updates 5 (upsert = update), deletes 3; nested writes for the top-level model only', () => {
    // Dog: 3 creates (one fails) + 1 in a batch; updates: 2 (one fails) + 2 upserts + 1 interactive;
    // deletes: 2 (one fails) + 1 in a batch. Owner: the update that nests a dog's create. Cat is unmapped.
    expect(modelLines(runs.instrumented.metrics)).toEqual([
      'django_model_deletes_total{"model":"dog"} 3',
      'django_model_deletes_total{"model":"owner"} 0',
      'django_model_inserts_total{"model":"dog"} 4',
      'django_model_inserts_total{"model":"owner"} 0',
      'django_model_updates_total{"model":"dog"} 5',
      'django_model_updates_total{"model":"owner"} 1',
    ]);
  });

  test('PROMETHEUS_EXPORT_MODEL_BULK=true adds the rows of successful bulk writes: inserts +5, updates +3, deletes +5', () => {
    // createMany 3, createManyAndReturn 1, createMany in a batch 1 (the failing one adds nothing);
    // updateMany 2, updateManyAndReturn 1; deleteMany 4, deleteMany in a batch 1.
    expect(modelLines(bulk.instrumented.metrics)).toEqual([
      'django_model_deletes_total{"model":"dog"} 8',
      'django_model_deletes_total{"model":"owner"} 0',
      'django_model_inserts_total{"model":"dog"} 9',
      'django_model_inserts_total{"model":"owner"} 0',
      'django_model_updates_total{"model":"dog"} 8',
      'django_model_updates_total{"model":"owner"} 1',
    ]);
  });

  for (const mode of ['faults-recorders', 'faults-store'] as const) {
    test(`${mode}: identical results, the process lives on, each failing site reported once`, () => {
      const run = bulk[mode];
      expect(run.outcomes).toEqual(runs.plain.outcomes);
      expect(run.alive).toBe(true);
      expect(lines(run.stderr)).toEqual(MISUSE_LINES);
      expect(failedSites(run.stderr).sort()).toEqual(FAULT_SITES[mode]);
      for (const line of containedFailures(run.stderr)) expect(line).toContain('injected fault: ');
      expect(modelLines(run.metrics)).toEqual([]);
    });
  }
});
