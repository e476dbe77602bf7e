// The shipped Grafana dashboards against a real Prometheus that scraped the examples after known
// traffic: every variable offers values and every panel query returns series, for all the views
// and for one, except the few queries listed below that this traffic cannot feed.
import { describe, expect, test } from 'vitest';
import type { E2eEnvironment } from '../support/e2e-environment.js';
import { All, loadDashboards, panelQueries, resolveVariables, runDashboard, type Choice, type Dashboard } from '../support/grafana.js';

/** A routed view of the example with reads, writes, cache hits and misses, and 404s. */
export const ONE_VIEW = '/api/items/:id';

type Selection = 'all views' | 'one view';

export interface ExpectedEmpty {
  dashboard: string;
  panel: string;
  refId: string;
  /** The selections it is empty for; all of them when absent. */
  only?: Selection;
  reason: string;
}

export const EXPECTED_EMPTY: readonly ExpectedEmpty[] = [
  { dashboard: 'odm-database', panel: 'Statements per second', refId: 'B', reason: 'the example never calls executeMany' },
  { dashboard: 'odm-database', panel: 'Connection errors by vendor', refId: 'A', reason: 'PostgreSQL stays up: no connection attempt fails' },
  { dashboard: 'odm-requests', panel: 'Exceptions by view', refId: 'A', only: 'one view', reason: `${ONE_VIEW} answers its errors itself (404): it raises no exception` },
];

function choices(namespace: string): Record<Selection, Record<string, Choice>> {
  return {
    'all views': { namespace, job: All, view: All },
    'one view': { namespace, job: All, view: [ONE_VIEW] },
  };
}

/** What is wrong with the dashboard under one selection: variables without options, queries not as expected. */
async function problems(env: E2eEnvironment, dashboard: Dashboard, selection: Selection, picked: Record<string, Choice>): Promise<string[]> {
  try {
    const found: string[] = [];
    const { options } = await resolveVariables(env.prometheus, dashboard, picked);
    for (const [name, values] of Object.entries(options)) if (values.length === 0) found.push(`${selection}: variable ${name} offers nothing`);
    for (const r of await runDashboard(env.prometheus, dashboard, picked)) {
      const expected = EXPECTED_EMPTY.find((e) => e.dashboard === dashboard.uid && e.panel === r.panel && e.refId === r.refId && (e.only ?? selection) === selection);
      if (r.series === 0 && !expected) found.push(`${selection}: "${r.panel}" ${r.refId} returned no series: ${r.expr}`);
      if (r.series > 0 && expected) found.push(`${selection}: "${r.panel}" ${r.refId} is listed as empty (${expected.reason}) but returned ${r.series} series`);
    }
    return found;
  } catch (err) {
    return [`${selection}: ${String(err)}`];
  }
}

export function dashboardSuite(env: () => E2eEnvironment): void {
  describe('the shipped Grafana dashboards, run on the scraped examples', () => {
    test('every EXPECTED_EMPTY entry names a query of a shipped dashboard', () => {
      const queries = new Set(loadDashboards().flatMap((d) => panelQueries(d).map((q) => `${d.uid} ${q.panel} ${q.refId}`)));
      expect(EXPECTED_EMPTY.filter((e) => !queries.has(`${e.dashboard} ${e.panel} ${e.refId}`))).toEqual([]);
    });

    for (const dashboard of loadDashboards()) {
      test(`${dashboard.title}: every variable offers values, every panel query returns series (all views, then ${ONE_VIEW})`, async () => {
        const { prometheus, selection } = env();
        let found: string[] = [];
        // Scrapes keep landing: a query short of samples right after the traffic gets a few more seconds.
        await prometheus
          .waitFor(`${dashboard.uid} complete`, async () => {
            found = [];
            for (const [name, picked] of Object.entries(choices(selection.namespace)) as [Selection, Record<string, Choice>][]) {
              found.push(...(await problems(env(), dashboard, name, picked)));
            }
            return found.length === 0;
          }, 20_000)
          .catch(() => {});
        expect(found).toEqual([]);
      }, 60_000);
    }
  });
}
