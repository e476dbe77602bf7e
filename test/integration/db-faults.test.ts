import { beforeAll, describe, expect, test } from 'vitest';
import { MYSQL, PG, reachable } from '../fixtures/db-services.mjs';
import { dbCounts, runFixtureModes, type FixtureRun } from '../fixtures/db-runs.js';
import { containedFailures } from '../support/faults.js';

const MODES = ['plain', 'faults-recorders', 'faults-store'] as const;
// In CI a missing server fails the run; locally the suite is skipped.
const required = process.env.CI === 'true';

/** The site of each contained-failure line (`... ODM001 <site> failed; ...`), sorted; a repeated site shows twice. */
function failedSites(stderr: string): string[] {
  return containedFailures(stderr).map((line) => /ODM001 (.+?) failed;/.exec(line)?.[1] ?? line).sort();
}

const DRIVERS = [
  {
    driver: 'pg',
    server: PG,
    app: 'test/fixtures/db-pg-app.mjs',
    // The statement's count and its end fail on every call, a connect's count and its failure too.
    sites: ['db statement count', 'db statement end', 'pg connect count', 'pg connect failure'],
  },
  {
    driver: 'mysql2',
    server: MYSQL,
    app: 'test/fixtures/db-mysql2-app.mjs',
    sites: ['db statement count', 'db statement end', 'mysql2 connect count', 'mysql2 connect failure'],
  },
];

for (const { driver, server, app, sites } of DRIVERS) {
  const available = await reachable(server.port, server.host);

  describe.skipIf(!available && !required)(`${driver} with the package's own code throwing (${app})`, () => {
    let runs: Record<(typeof MODES)[number], FixtureRun>;

    beforeAll(async () => {
      runs = await runFixtureModes(app, MODES, `primary=${server.host}:${server.port}/${server.database}`);
    }, 60_000);

    test(`the server answers on ${server.host}:${server.port}`, () => {
      expect(available).toBe(true);
    });

    for (const mode of ['faults-recorders', 'faults-store'] as const) {
      test(`${mode}: every step gives the app exactly its results and errors, callbacks once each, and the process lives on`, () => {
        expect(runs[mode].outcomes).toEqual(runs.plain.outcomes);
        expect(runs[mode].alive).toBe(true);
      });

      test(`${mode}: each failing site is reported once with ODM001, and no DB measurement is half made`, () => {
        expect(failedSites(runs[mode].stderr)).toEqual(sites);
        for (const line of containedFailures(runs[mode].stderr)) expect(line).toContain('injected fault: ');
        expect(dbCounts(runs[mode].metrics)).toEqual([]);
      });
    }
  });
}
