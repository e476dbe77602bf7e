import { beforeAll, describe, expect, test } from 'vitest';
import { PG, reachable } from '../fixtures/db-services.mjs';
import { briefOutcomes, dbCounts, runFixtureModes, type FixtureRun } from '../fixtures/db-runs.js';
import { vectorOf } from '../support/exposition.js';

const APP = 'test/fixtures/db-pg-app.mjs';
const ALIASES = `primary=${PG.host}:${PG.port}/${PG.database}`;
const MODES = ['plain', 'instrumented', 'detailed', 'upstream-only', 'upstream-after', 'upstream-before'] as const;

const available = await reachable(PG.port, PG.host);
// In CI a missing server fails the run; locally the suite is skipped.
const required = process.env.CI === 'true';

describe.skipIf(!available && !required)('pg on a real PostgreSQL server: the known script (test/fixtures/db-pg-app.mjs)', () => {
  let runs: Record<(typeof MODES)[number], FixtureRun>;

  beforeAll(async () => {
    runs = await runFixtureModes(APP, MODES, { PROMETHEUS_DB_ALIASES: ALIASES });
  }, 60_000);

  test(`PostgreSQL answers on ${PG.host}:${PG.port}`, () => {
    expect(available).toBe(true);
  });

  test('the script ran as planned, and the app sees exactly what it sees without the package', () => {
    expect(briefOutcomes(runs.plain.outcomes)).toEqual({
      connect: 'ok',
      promise: 'ok',
      callback: 'ok',
      'config callback': 'ok',
      submittable: 'ok',
      'syntax error': '42601',
      'missing table, callback': '42P01',
      'sync throw': 'TypeError',
      create: 'ok',
      insert: 'ok',
      'unique violation': '23505',
      'division by zero': '22012',
      'submittable error': '42P01',
      stream: 'ok',
      'stream error': '42P01',
      executeMany: 'ok',
      'executeMany failing': '23505',
      'statement timeout': 'ok',
      'query canceled': '57014',
      end: 'ok',
      'closed client': 'Error',
      'pool growth': 'ok',
      'pool callback': 'ok',
      'pool missing table': '42P01',
      'pool executeMany': 'ok',
      'pool end': 'ok',
      replica: 'ok',
      'replica end': 'ok',
      'refused alias': 'ok',
      'refused alias end': 'ok',
      'lockers connect': 'ok',
      'locks setup': 'ok',
      deadlock: 'ok',
      'locks cleanup': 'ok',
      refused: 'ECONNREFUSED',
      'refused, callback': 'ECONNREFUSED',
      'unknown role': '28000',
      'pool, unknown database': '3D000',
      'callback calls': '5',
    });
    for (const mode of MODES) expect(runs[mode].outcomes, mode).toEqual(runs.plain.outcomes);
    // The DSN given to setDbAlias is refused without being echoed.
    expect(runs.instrumented.stderr).toBe('otel-django-metrics: setDbAlias: invalid alias (expected 1-64 characters of A-Z a-z 0-9 _ . -); ignored\n');
  });

  test('connections: each attempt, pool growth included, and each failure, by alias (queries outside any request)', () => {
    const m = runs.instrumented.metrics!;
    // default: main + 2 refused (closed port) + the unknown database; primary: 2 pooled + the pool with a
    // refused alias + the unknown role.
    expect(vectorOf(m, 'django_db_new_connections_total')).toEqual([
      '{"alias":"default","vendor":"postgresql"} 4',
      '{"alias":"locks","vendor":"postgresql"} 2',
      '{"alias":"primary","vendor":"postgresql"} 4',
      '{"alias":"replica","vendor":"postgresql"} 1',
    ]);
    expect(vectorOf(m, 'django_db_new_connection_errors_total')).toEqual([
      '{"alias":"default","vendor":"postgresql"} 3',
      '{"alias":"primary","vendor":"postgresql"} 1',
    ]);
  });

  test('statements: every API path once, executeMany counted the Django way', () => {
    const m = runs.instrumented.metrics!;
    // default: 17 calls + 3 + 2 in batches; primary: 5 pool calls + a batch of 2; locks: 11 (setup, deadlock, cleanup).
    expect(vectorOf(m, 'django_db_execute_total')).toEqual([
      '{"alias":"default","vendor":"postgresql"} 22',
      '{"alias":"locks","vendor":"postgresql"} 11',
      '{"alias":"primary","vendor":"postgresql"} 7',
      '{"alias":"replica","vendor":"postgresql"} 1',
    ]);
    expect(vectorOf(m, 'django_db_execute_many_total')).toEqual([
      '{"alias":"default","vendor":"postgresql"} 5',
      '{"alias":"primary","vendor":"postgresql"} 2',
    ]);
    // One observation per call and one per batch; failed statements are timed too.
    expect(vectorOf(m, 'django_db_query_duration_seconds_count')).toEqual([
      '{"alias":"default","vendor":"postgresql"} 19',
      '{"alias":"locks","vendor":"postgresql"} 11',
      '{"alias":"primary","vendor":"postgresql"} 6',
      '{"alias":"replica","vendor":"postgresql"} 1',
    ]);
  });

  test('errors by PEP-249 class on every path (promise, callback, submittable, stream, sync throw, pool, batch)', () => {
    expect(vectorOf(runs.instrumented.metrics!, 'django_db_errors_total')).toEqual([
      '{"alias":"default","type":"DataError","vendor":"postgresql"} 1',
      '{"alias":"default","type":"IntegrityError","vendor":"postgresql"} 2',
      '{"alias":"default","type":"InterfaceError","vendor":"postgresql"} 2',
      '{"alias":"default","type":"OperationalError","vendor":"postgresql"} 1',
      '{"alias":"default","type":"ProgrammingError","vendor":"postgresql"} 4',
      '{"alias":"locks","type":"OperationalError","vendor":"postgresql"} 1',
      '{"alias":"primary","type":"ProgrammingError","vendor":"postgresql"} 1',
    ]);
  });

  test('PROMETHEUS_DB_ERROR_TYPE=detailed: psycopg class names for server errors', () => {
    expect(vectorOf(runs.detailed.metrics!, 'django_db_errors_total')).toEqual([
      '{"alias":"default","type":"DivisionByZero","vendor":"postgresql"} 1',
      '{"alias":"default","type":"InterfaceError","vendor":"postgresql"} 2',
      '{"alias":"default","type":"QueryCanceled","vendor":"postgresql"} 1',
      '{"alias":"default","type":"SyntaxError","vendor":"postgresql"} 1',
      '{"alias":"default","type":"UndefinedTable","vendor":"postgresql"} 3',
      '{"alias":"default","type":"UniqueViolation","vendor":"postgresql"} 2',
      '{"alias":"locks","type":"DeadlockDetected","vendor":"postgresql"} 1',
      '{"alias":"primary","type":"UndefinedTable","vendor":"postgresql"} 1',
    ]);
  });

  test('HELP, TYPE and the 17 latency buckets of each duration series', () => {
    const m = runs.instrumented.metrics!;
    expect(m.families.get('django_db_query_duration_seconds')).toEqual({ help: 'Histogram of query duration by database and vendor.', type: 'histogram' });
    expect(m.families.get('django_db_errors_total')).toEqual({ help: 'Counter of execution errors by database, vendor and exception type.', type: 'counter' });
    const buckets = m.samples.filter((s) => s.name === 'django_db_query_duration_seconds_bucket' && s.labels.alias === 'replica');
    expect(buckets.map((s) => s.labels.le)).toEqual(['0.01', '0.025', '0.05', '0.075', '0.1', '0.25', '0.5', '0.75', '1.0', '2.5', '5.0', '7.5', '10.0', '25.0', '50.0', '75.0', '+Inf']);
    expect(buckets.at(-1)!.value).toBe(1);
  });

  test('alongside OTel instrumentation-pg, in either load order: same metrics, its spans once per call, its duration histogram dropped', () => {
    for (const mode of ['upstream-after', 'upstream-before'] as const) {
      expect(dbCounts(runs[mode].metrics), mode).toEqual(dbCounts(runs.instrumented.metrics));
      expect(runs[mode].spans, mode).toEqual(runs['upstream-only'].spans);
    }
    expect(runs['upstream-only'].spans!['pg.query:SELEC postgres']).toBe(1);
    // Enabled after the preload, instrumentation-pg records into the package's MeterProvider.
    const names = new Set(runs['upstream-after'].metrics!.samples.map((s) => s.name));
    expect(names.has('db_client_connection_max')).toBe(true);
    expect([...names].filter((n) => n.startsWith('db_client_operation_duration'))).toEqual([]);
  });
});
