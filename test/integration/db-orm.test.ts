import { beforeAll, describe, expect, test } from 'vitest';
import { MYSQL, PG, reachable } from '../fixtures/db-services.mjs';
import { briefOutcomes, dbCounts, runFixtureModes, type FixtureRun } from '../fixtures/db-runs.js';

const APP = 'test/fixtures/db-orm-app.mjs';
const MODES = ['plain', 'instrumented'] as const;
// In CI a missing server fails the run; locally the suite is skipped.
const required = process.env.CI === 'true';

/**
 * Each case: the statements the ORM logs, plus those it runs without logging them, all counted
 * through the driver, the duplicate key counted once as IntegrityError.
 */
const CASES = [
  // knex logs its 8 statements (one bulk INSERT; BEGIN, UPDATE, COMMIT) and checks the server
  // version on its one connection.
  { orm: 'knex', driver: 'pg', server: PG, vendor: 'postgresql', duplicate: '23505', logged: 8, connections: 1, statements: 9 },
  { orm: 'knex', driver: 'mysql2', server: MYSQL, vendor: 'mysql', duplicate: 'ER_DUP_ENTRY', logged: 8, connections: 1, statements: 9 },
  // Sequelize logs 11 (sync adds a table lookup and an index query) and opens a second, short
  // connection to read the server version; its connect-time statements are not logged.
  { orm: 'sequelize', driver: 'pg', server: PG, vendor: 'postgresql', duplicate: 'UniqueConstraintError', logged: 11, connections: 2, statements: 14 },
  { orm: 'sequelize', driver: 'mysql2', server: MYSQL, vendor: 'mysql', duplicate: 'UniqueConstraintError', logged: 11, connections: 2, statements: 14 },
] as const;

/** The fixture's steps as `briefOutcomes` shows them when all went as planned. */
function plan(orm: string, duplicate: string, logged: number): Record<string, string> {
  return {
    ...(orm === 'sequelize' ? { authenticate: 'ok' } : {}),
    'create table': 'ok',
    'bulk insert': 'ok',
    select: 'ok',
    'duplicate key': duplicate,
    transaction: 'ok',
    'drop table': 'ok',
    close: 'ok',
    'statements the ORM logged': String(logged),
    'callback calls': '0',
  };
}

for (const { orm, driver, server, vendor, duplicate, logged, connections, statements } of CASES) {
  const available = await reachable(server.port, server.host);

  describe.skipIf(!available && !required)(`${orm} on ${driver} (${APP}), counted through the driver`, () => {
    let runs: Record<(typeof MODES)[number], FixtureRun>;

    beforeAll(async () => {
      runs = await runFixtureModes(APP, MODES, { DB_ORM: orm, DB_DRIVER: driver });
    }, 60_000);

    test(`the server answers on ${server.host}:${server.port}`, () => {
      expect(available).toBe(true);
    });

    test('the work ran as planned, and the ORM sees exactly what it sees without the package', () => {
      expect(briefOutcomes(runs.plain.outcomes)).toEqual(plan(orm, duplicate, logged));
      expect(runs.instrumented.outcomes).toEqual(runs.plain.outcomes);
      expect(runs.instrumented.stderr).toBe('');
    });

    test(`exact DB families: ${connections} connection(s), ${statements} statements each timed, 1 IntegrityError`, () => {
      const labels = `"alias":"default","vendor":"${vendor}"`;
      expect(dbCounts(runs.instrumented.metrics)).toEqual([
        `django_db_errors_total{"alias":"default","type":"IntegrityError","vendor":"${vendor}"} 1`,
        `django_db_execute_total{${labels}} ${statements}`,
        `django_db_new_connections_total{${labels}} ${connections}`,
        `django_db_query_duration_seconds_count{${labels}} ${statements}`,
      ]);
    });
  });
}
