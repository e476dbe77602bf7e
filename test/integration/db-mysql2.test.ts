import { beforeAll, describe, expect, test } from 'vitest';
import { MYSQL, reachable } from '../fixtures/db-services.mjs';
import { briefOutcomes, dbCounts, runFixtureModes, type FixtureRun } from '../fixtures/db-runs.js';
import { vectorOf } from '../support/exposition.js';

const APP = 'test/fixtures/db-mysql2-app.mjs';
const ALIASES = `primary=${MYSQL.host}:${MYSQL.port}/${MYSQL.database}`;
const MODES = ['plain', 'instrumented', 'upstream-only', 'upstream-after', 'upstream-before'] as const;

const available = await reachable(MYSQL.port, MYSQL.host);
// In CI a missing server fails the run; locally the suite is skipped.
const required = process.env.CI === 'true';

describe.skipIf(!available && !required)('mysql2 on a real MySQL/MariaDB server: the known script (test/fixtures/db-mysql2-app.mjs)', () => {
  let runs: Record<(typeof MODES)[number], FixtureRun>;

  beforeAll(async () => {
    runs = await runFixtureModes(APP, MODES, { PROMETHEUS_DB_ALIASES: ALIASES });
  }, 60_000);

  test(`MySQL answers on ${MYSQL.host}:${MYSQL.port}`, () => {
    expect(available).toBe(true);
  });

  test('the script ran as planned, and the app sees exactly what it sees without the package', () => {
    expect(briefOutcomes(runs.plain.outcomes)).toEqual({
      connect: 'ok',
      query: 'ok',
      'query with values': 'ok',
      execute: 'ok',
      'query options': 'ok',
      'query events': 'ok',
      stream: 'ok',
      'stream error': 'ER_NO_SUCH_TABLE',
      'syntax error': 'ER_PARSE_ERROR',
      'missing table, execute': 'ER_NO_SUCH_TABLE',
      'unknown column': 'ER_BAD_FIELD_ERROR',
      'sync throw': 'TypeError',
      create: 'ok',
      insert: 'ok',
      'duplicate key': 'ER_DUP_ENTRY',
      'data too long': 'ER_DATA_TOO_LONG',
      'events error': 'ER_NO_SUCH_TABLE',
      executeMany: 'ok',
      'executeMany failing': 'ER_DUP_ENTRY',
      end: 'ok',
      'closed connection': 'Error',
      'pool growth': 'ok',
      'pool missing table': 'ER_NO_SUCH_TABLE',
      'pool connection execute': 'ok',
      'pool executeMany': 'ok',
      'pool end': 'ok',
      replica: 'ok',
      'replica end': 'ok',
      'locks setup': 'ok',
      'lock wait timeout': 'ER_LOCK_WAIT_TIMEOUT',
      deadlock: 'ok',
      'locks cleanup': 'ok',
      refused: 'ECONNREFUSED',
      'wrong password': 'ER_ACCESS_DENIED_ERROR',
      'pool, refused': 'ECONNREFUSED',
      'unknown database': 'ER_BAD_DB_ERROR',
      'callback calls': '14',
    });
    for (const mode of MODES) expect(runs[mode].outcomes, mode).toEqual(runs.plain.outcomes);
    expect(runs.instrumented.stderr).toBe('');
  });

  test('connections: each handshake, pool growth included, and each failure, by alias (queries outside any request)', () => {
    const m = runs.instrumented.metrics!;
    // default: main + refused + refused through a pool + unknown database; primary: 2 pooled + the wrong password.
    expect(vectorOf(m, 'django_db_new_connections_total')).toEqual([
      '{"alias":"default","vendor":"mysql"} 4',
      '{"alias":"locks","vendor":"mysql"} 2',
      '{"alias":"primary","vendor":"mysql"} 3',
      '{"alias":"replica","vendor":"mysql"} 1',
    ]);
    expect(vectorOf(m, 'django_db_new_connection_errors_total')).toEqual([
      '{"alias":"default","vendor":"mysql"} 3',
      '{"alias":"primary","vendor":"mysql"} 1',
    ]);
  });

  test('statements: query and execute on every API path once, executeMany counted the Django way', () => {
    const m = runs.instrumented.metrics!;
    // default: 17 calls + 3 + 2 in batches; primary: 4 pool calls + a batch of 2; locks: 13.
    expect(vectorOf(m, 'django_db_execute_total')).toEqual([
      '{"alias":"default","vendor":"mysql"} 22',
      '{"alias":"locks","vendor":"mysql"} 13',
      '{"alias":"primary","vendor":"mysql"} 6',
      '{"alias":"replica","vendor":"mysql"} 1',
    ]);
    expect(vectorOf(m, 'django_db_execute_many_total')).toEqual([
      '{"alias":"default","vendor":"mysql"} 5',
      '{"alias":"primary","vendor":"mysql"} 2',
    ]);
    expect(vectorOf(m, 'django_db_query_duration_seconds_count')).toEqual([
      '{"alias":"default","vendor":"mysql"} 19',
      '{"alias":"locks","vendor":"mysql"} 13',
      '{"alias":"primary","vendor":"mysql"} 5',
      '{"alias":"replica","vendor":"mysql"} 1',
    ]);
  });

  test('errors by class from the MySQL errno (1054, 1205 and 1213 are OperationalError, as in mysqlclient)', () => {
    expect(vectorOf(runs.instrumented.metrics!, 'django_db_errors_total')).toEqual([
      '{"alias":"default","type":"DataError","vendor":"mysql"} 1',
      '{"alias":"default","type":"IntegrityError","vendor":"mysql"} 2',
      '{"alias":"default","type":"InterfaceError","vendor":"mysql"} 2',
      '{"alias":"default","type":"OperationalError","vendor":"mysql"} 1',
      '{"alias":"default","type":"ProgrammingError","vendor":"mysql"} 4',
      '{"alias":"locks","type":"OperationalError","vendor":"mysql"} 2',
      '{"alias":"primary","type":"ProgrammingError","vendor":"mysql"} 1',
    ]);
  });

  test('alongside OTel instrumentation-mysql2, in either load order: same metrics, its spans once per call', () => {
    for (const mode of ['upstream-after', 'upstream-before'] as const) {
      expect(dbCounts(runs[mode].metrics), mode).toEqual(dbCounts(runs.instrumented.metrics));
      expect(runs[mode].spans, mode).toEqual(runs['upstream-only'].spans);
    }
    expect(runs['upstream-only'].spans!['SELEC']).toBe(1);
  });
});
