import { beforeAll, describe, expect, test } from 'vitest';
import { briefOutcomes, dbCounts, runFixtureModes, type FixtureRun } from '../fixtures/db-runs.js';
import { vectorOf } from '../support/exposition.js';
import { containedFailures } from '../support/faults.js';

const APP = 'test/fixtures/db-sqlite-app.mjs';
const ALIASES = 'primary=/primary.db,mem=/:memory:';
const FAULTS = ['faults-recorders', 'faults-store', 'faults-labels'] as const;
const MODES = ['plain', 'instrumented', 'detailed', ...FAULTS] as const;

/** The site of each contained-failure line, sorted. */
function failedSites(stderr: string): string[] {
  return containedFailures(stderr).map((line) => /ODM001 (.+?) failed;/.exec(line)?.[1] ?? line).sort();
}

// better-sqlite3 needs no server: the script's database files live in a temporary directory it removes.
describe('better-sqlite3 on real database files: the known script (test/fixtures/db-sqlite-app.mjs)', () => {
  let runs: Record<(typeof MODES)[number], FixtureRun>;

  beforeAll(async () => {
    runs = await runFixtureModes(APP, MODES, { PROMETHEUS_DB_ALIASES: ALIASES });
  }, 60_000);

  test('the script ran as planned, and the app sees exactly what it sees without the package', () => {
    expect(briefOutcomes(runs.plain.outcomes)).toEqual({
      open: 'ok',
      exec: 'ok',
      pragma: 'ok',
      run: 'ok',
      get: 'ok',
      all: 'ok',
      iterate: 'ok',
      'iterate, left early': 'ok',
      'duplicate key': 'SQLITE_CONSTRAINT_UNIQUE',
      'foreign key': 'SQLITE_CONSTRAINT_FOREIGNKEY',
      'not null': 'SQLITE_CONSTRAINT_NOTNULL',
      'syntax error': 'SQLITE_ERROR',
      'missing table': 'SQLITE_ERROR',
      'wrong bindings': 'RangeError',
      'iterate error': 'Error',
      transaction: 'ok',
      'transaction rolled back': 'SQLITE_CONSTRAINT_UNIQUE',
      count: 'ok',
      close: 'ok',
      'closed, prepare': 'TypeError',
      'closed, statement': 'TypeError',
      'without new': 'SQLITE_READONLY',
      subclass: 'ok',
      busy: 'SQLITE_BUSY',
      'busy end': 'ok',
      memory: 'ok',
      setDbAlias: 'ok',
      executeMany: 'ok',
      'executeMany failing': 'SQLITE_CONSTRAINT_PRIMARYKEY',
      'executeMany rows': 'ok',
      'no directory': 'TypeError',
      'must exist': 'SQLITE_CANTOPEN',
      'callback calls': '0',
    });
    // The transaction committed its two rows and rolled the third back; results are the driver's own.
    expect(runs.plain.outcomes.count).toEqual({ result: { n: 4 } });
    // executeMany resolves to the driver's per-set results; the failing batch stopped at its second set.
    expect(runs.plain.outcomes.executeMany).toEqual({ result: [1, 1, 1] });
    expect(runs.plain.outcomes['executeMany rows']).toEqual({ result: { n: 4 } });
    expect(runs.plain.outcomes.subclass).toEqual({ result: true });
    for (const mode of MODES) expect(runs[mode].outcomes, mode).toEqual(runs.plain.outcomes);
    expect(runs.instrumented.stderr).toBe('');
  });

  test('opens: each new Database by alias (file name rule, :memory: rule, setDbAlias), failed opens counted', () => {
    const m = runs.instrumented.metrics!;
    // default: main.db twice + missing.db; primary: two connections + the one in a missing directory.
    expect(vectorOf(m, 'django_db_new_connections_total')).toEqual([
      '{"alias":"batch","vendor":"sqlite"} 1',
      '{"alias":"default","vendor":"sqlite"} 3',
      '{"alias":"mem","vendor":"sqlite"} 2',
      '{"alias":"primary","vendor":"sqlite"} 3',
      '{"alias":"scratch","vendor":"sqlite"} 1',
    ]);
    expect(vectorOf(m, 'django_db_new_connection_errors_total')).toEqual([
      '{"alias":"default","vendor":"sqlite"} 1',
      '{"alias":"primary","vendor":"sqlite"} 1',
    ]);
  });

  test('statements: exec, pragma, run, get, all, iterate and a failing prepare once each; one duration each; executeMany counts each set, once per batch in durations', () => {
    const m = runs.instrumented.metrics!;
    // default: 23 statements (the transactions' 4 runs, not their BEGIN/COMMIT/ROLLBACK); primary: 3 exec;
    // batch: the exec, 3 + 2 sets of executeMany and the count.
    expect(vectorOf(m, 'django_db_execute_total')).toEqual([
      '{"alias":"batch","vendor":"sqlite"} 7',
      '{"alias":"default","vendor":"sqlite"} 23',
      '{"alias":"mem","vendor":"sqlite"} 1',
      '{"alias":"primary","vendor":"sqlite"} 3',
      '{"alias":"scratch","vendor":"sqlite"} 1',
    ]);
    // Iterators, exhausted or left early, end their statement too; a batch is one duration.
    expect(vectorOf(m, 'django_db_query_duration_seconds_count')).toEqual([
      '{"alias":"batch","vendor":"sqlite"} 4',
      '{"alias":"default","vendor":"sqlite"} 23',
      '{"alias":"mem","vendor":"sqlite"} 1',
      '{"alias":"primary","vendor":"sqlite"} 3',
      '{"alias":"scratch","vendor":"sqlite"} 1',
    ]);
    expect(vectorOf(m, 'django_db_execute_many_total')).toEqual(['{"alias":"batch","vendor":"sqlite"} 5']);
  });

  test('errors by class from the SQLite result code, as Python sqlite3 raises them; detailed changes nothing', () => {
    // Integrity: unique twice, foreign key, not null. Operational: syntax, missing table, the app
    // function's error, read-only, busy. Programming: wrong bindings, closed database twice.
    expect(vectorOf(runs.instrumented.metrics!, 'django_db_errors_total')).toEqual([
      '{"alias":"batch","type":"IntegrityError","vendor":"sqlite"} 1',
      '{"alias":"default","type":"IntegrityError","vendor":"sqlite"} 4',
      '{"alias":"default","type":"OperationalError","vendor":"sqlite"} 4',
      '{"alias":"default","type":"ProgrammingError","vendor":"sqlite"} 3',
      '{"alias":"primary","type":"OperationalError","vendor":"sqlite"} 1',
    ]);
    expect(dbCounts(runs.detailed.metrics)).toEqual(dbCounts(runs.instrumented.metrics));
  });

  const SITES: Record<(typeof FAULTS)[number], string[]> = {
    'faults-recorders': ['better-sqlite3 connect count', 'better-sqlite3 connect failure', 'collector migrations', 'db statement count', 'db statement end'],
    'faults-store': ['better-sqlite3 connect count', 'better-sqlite3 connect failure', 'db statement count', 'db statement end'],
    'faults-labels': ['better-sqlite3 connect count', 'better-sqlite3 connect failure', 'db statement start'],
  };

  for (const mode of FAULTS) {
    test(`${mode}: the app gets exactly its results and errors, each failing site is reported once, nothing half recorded`, () => {
      expect(runs[mode].alive).toBe(true);
      expect(failedSites(runs[mode].stderr)).toEqual(SITES[mode]);
      for (const line of containedFailures(runs[mode].stderr)) expect(line).toContain('injected fault: ');
      expect(dbCounts(runs[mode].metrics)).toEqual([]);
    });
  }
});
