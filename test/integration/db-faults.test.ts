import { beforeAll, describe, expect, test } from 'vitest';
import { MYSQL, PG, reachable } from '../fixtures/db-services.mjs';
import { dbCounts, runFixtureModes, type FixtureRun } from '../fixtures/db-runs.js';
import { containedFailures } from '../support/faults.js';

const FAULTS = ['faults-recorders', 'faults-store', 'faults-prepare', 'faults-labels'] as const;
const MODES = ['plain', ...FAULTS] as const;
// In CI a missing server fails the run; locally the suite is skipped.
const required = process.env.CI === 'true';

/** The site of each contained-failure line (`... ODM001 <site> failed; ...`), sorted; a repeated site shows twice. */
function failedSites(stderr: string): string[] {
  return containedFailures(stderr).map((line) => /ODM001 (.+?) failed;/.exec(line)?.[1] ?? line).sort();
}

/** The sites each fault makes fail, per driver (`%` stands for the driver's name). */
const SITES: Record<(typeof FAULTS)[number], string[]> = {
  // Counting a statement and ending it fail on every call; counting a connect and its failure too;
  // the migration tracker's collection fails at every scrape.
  'faults-recorders': ['collector migrations', 'db statement count', 'db statement end', '% connect count', '% connect failure'],
  'faults-store': ['db statement count', 'db statement end', '% connect count', '% connect failure'],
  // Wrapping the app's callback (or watching pg's promise) fails: the driver call runs untouched.
  'faults-prepare': ['% query'],
  // Without label values nothing can be recorded: statements go untracked, connects uncounted.
  'faults-labels': ['% connect count', '% connect failure', 'db statement start'],
};

const DRIVERS = [
  { driver: 'pg', server: PG, app: 'test/fixtures/db-pg-app.mjs' },
  { driver: 'mysql2', server: MYSQL, app: 'test/fixtures/db-mysql2-app.mjs' },
];

for (const { driver, server, app } of DRIVERS) {
  const available = await reachable(server.port, server.host);

  describe.skipIf(!available && !required)(`${driver} with the package's own code throwing (${app})`, () => {
    let runs: Record<(typeof MODES)[number], FixtureRun>;

    beforeAll(async () => {
      runs = await runFixtureModes(app, MODES, { PROMETHEUS_DB_ALIASES: `primary=${server.host}:${server.port}/${server.database}` });
    }, 90_000);

    test(`the server answers on ${server.host}:${server.port}`, () => {
      expect(available).toBe(true);
    });

    for (const mode of FAULTS) {
      test(`${mode}: every step gives the app exactly its results and errors, callbacks once each, and the process lives on`, () => {
        expect(runs[mode].outcomes).toEqual(runs.plain.outcomes);
        expect(runs[mode].alive).toBe(true);
      });

      test(`${mode}: each failing site is reported once with ODM001`, () => {
        expect(failedSites(runs[mode].stderr)).toEqual(SITES[mode].map((site) => site.replace('%', driver)).sort());
        for (const line of containedFailures(runs[mode].stderr)) expect(line).toContain('injected fault: ');
      });
    }

    test('a fault in every recording step leaves no DB measurement half made', () => {
      for (const mode of ['faults-recorders', 'faults-store', 'faults-labels'] as const) expect(dbCounts(runs[mode].metrics), mode).toEqual([]);
    });
  });
}
