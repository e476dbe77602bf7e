import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readConfig } from '../../src/config.js';
import { start } from '../../src/start.js';
import type { Distribution } from '../../src/state.js';
import { ALL_FAMILIES, CACHE, DB, HTTP, MIGRATIONS, MODELS } from '../../views/index.js';

// test/golden/startup.prom mirrors metrics.md sections 1 and 3-7 (names, types, HELP texts, E6
// `le` texts, E8 zero samples), checked by hand against the spec: change it only when the
// contract changes, never by pasting the current output.
const GOLDEN = readFileSync(new URL('../golden/startup.prom', import.meta.url), 'utf8');

describe('a freshly started distribution, no traffic', () => {
  let distribution: Distribution;

  beforeAll(async () => {
    // No dedicated server and no runtime metrics: the exposition is the 34 families alone.
    const config = readConfig({ PROMETHEUS_METRICS_EXPORT_PORT: 'off', PROMETHEUS_RUNTIME_METRICS: 'false' }, (line) => {
      throw new Error(`unexpected log line: ${line}`);
    });
    distribution = (await start({ config }))!;
  });
  afterAll(() => distribution?.shutdown());

  test('exposes exactly test/golden/startup.prom, byte for byte', async () => {
    expect(await distribution.scrape()).toBe(GOLDEN);
  });
});

describe('the catalog', () => {
  test('34 families: HTTP 19, DB 6, cache 4, models 3, migrations 2, in that order', () => {
    const groups = [HTTP, DB, CACHE, MODELS, MIGRATIONS].map((g) => Object.values(g));
    expect(groups.map((g) => g.length)).toEqual([19, 6, 4, 3, 2]);
    expect(ALL_FAMILIES).toEqual(groups.flat());
    expect(new Set(ALL_FAMILIES.map((f) => f.name)).size).toBe(34);
  });

  test('counters end in _total (E1); histograms carry buckets, nothing else does', () => {
    for (const f of ALL_FAMILIES) {
      if (f.type === 'counter') expect(f.name, f.name).toMatch(/_total$/);
      expect(f.buckets !== undefined, f.name).toBe(f.type === 'histogram');
    }
  });

  test('every family declares how it merges across processes: counters and histograms sum, the migration gauges take the max', () => {
    const rules = Object.fromEntries(ALL_FAMILIES.map((f) => [f.name, f.merge]));
    for (const f of ALL_FAMILIES) if (f.type !== 'gauge') expect(rules[f.name], f.name).toBe('sum');
    expect(Object.values(MIGRATIONS).map((f) => f.merge)).toEqual(['max', 'max']);
  });

  test('the latency layout feeds #3, #5 and the DB query histogram; the body layout #11 and #15 (E4, E5)', () => {
    const byLayout = (layout: string) => ALL_FAMILIES.filter((f) => f.buckets === layout).map((f) => f.name);
    expect(byLayout('latency')).toEqual([
      'django_http_requests_latency_including_middlewares_seconds',
      'django_http_requests_latency_seconds_by_view_method',
      'django_db_query_duration_seconds',
    ]);
    expect(byLayout('body')).toEqual(['django_http_requests_body_total_bytes', 'django_http_responses_body_total_bytes']);
  });
});
