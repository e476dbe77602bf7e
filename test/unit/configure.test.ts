import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { readConfig } from '../../src/config.js';
import { configure } from '../../src/index.js';
import { start } from '../../src/start.js';
import { parseExposition, valueOf, vectorOf } from '../support/exposition.js';
import { MergeTable } from '../../src/cluster/merge.js';
import { decodeState, encodeState } from '../../src/cluster/state-format.js';
import { checkOptions, type ConfigureOptions } from '../../src/extension/options.js';
import { Registry } from '../../src/store/registry.js';
import { DB, deriveFamily, HTTP, type FamilyDef } from '../../views/index.js';
import { values } from '../fixtures/multiproc-states.js';

function linesOf(options: unknown): { lines: string[]; checked: ReturnType<typeof checkOptions> } {
  const lines: string[] = [];
  const checked = checkOptions(options as ConfigureOptions, (line) => lines.push(line));
  return { lines, checked };
}

describe('configure() options: each refused part is one line and left out, the rest applies', () => {
  test('not an object at all', () => {
    expect(linesOf(null).lines).toEqual(['configure: options must be an object, not null; nothing is changed']);
    expect(linesOf(3).lines).toEqual(['configure: options must be an object, not number 3; nothing is changed']);
  });

  test('hooks must be functions; an explicit undefined removes one', () => {
    const { lines, checked } = linesOf({ labelMetric: 1, viewName: undefined });
    expect(lines).toEqual(['configure: labelMetric must be a function, not number 1; ignored']);
    expect('labelMetric' in checked).toBe(false);
    expect('viewName' in checked && checked.viewName === undefined).toBe(true);
  });

  test('extra labels: routing-level HTTP families only, valid and new label names', () => {
    const { lines, checked } = linesOf({
      extraLabels: {
        django_http_requests_total_by_method_total: ['tenant', 'region'],
        shop_django_http_requests_total_by_method_total: ['tenant'],
        django_db_errors_total: ['tenant'],
        django_http_ajax_requests_total: ['1st'],
        django_http_requests_total_by_transport_total: ['__name'],
        django_http_requests_body_total_bytes: ['le'],
        django_http_responses_total_by_status_total: ['a', 'a'],
        django_http_responses_total_by_charset_total: 'tenant',
      },
    });
    expect(lines).toEqual([
      'configure: extraLabels.shop_django_http_requests_total_by_method_total is refused: extraLabels applies to the routing-level HTTP families (#5 to #19), by their names without the namespace prefix',
      'configure: extraLabels.django_db_errors_total is refused: extraLabels applies to the routing-level HTTP families (#5 to #19), by their names without the namespace prefix',
      'configure: extraLabels.django_http_ajax_requests_total = ["1st"] is refused: "1st" is not a valid label name',
      'configure: extraLabels.django_http_requests_total_by_transport_total = ["__name"] is refused: "__name" is not a valid label name',
      'configure: extraLabels.django_http_requests_body_total_bytes = ["le"] is refused: le is reserved',
      'configure: extraLabels.django_http_responses_total_by_status_total = ["a","a"] is refused: a is already a label of the family',
      'configure: extraLabels.django_http_responses_total_by_charset_total = "tenant" is refused: a list of label names is expected',
    ]);
    expect([...checked.extraLabels]).toEqual([[HTTP.requestsByMethod, ['tenant', 'region']]]);
  });

  test('buckets: the three latency histograms only, finite and strictly ascending', () => {
    const { lines, checked } = linesOf({
      buckets: {
        django_db_query_duration_seconds: [0.5, 2],
        django_http_requests_latency_seconds_by_view_method: [],
        django_http_requests_latency_including_middlewares_seconds: [1, Infinity],
        django_http_responses_body_total_bytes: [1],
      },
    });
    expect(lines).toEqual([
      'configure: buckets.django_http_requests_latency_seconds_by_view_method = [] is refused: a non-empty list of numbers is expected',
      'configure: buckets.django_http_requests_latency_including_middlewares_seconds = [1,Infinity] is refused: Infinity is not a finite number (+Inf is implicit)',
      'configure: buckets.django_http_responses_body_total_bytes is refused: buckets applies to the three latency histograms, by their names without the namespace prefix',
    ]);
    expect([...checked.buckets]).toEqual([[DB.queryDuration, [0.5, 2]]]);
  });

  test('a map that is not an object', () => {
    expect(linesOf({ extraLabels: ['x'] }).lines).toEqual(['configure: extraLabels must be an object keyed by family name, not an array; ignored']);
  });
});

describe('Registry.reshape', () => {
  const registry = () => new Registry({ namespace: 'shop', latencyBuckets: [0.1], maxSeriesPerMetric: 100 });

  test('a family without samples takes the extra labels and bounds; holders are told', () => {
    const r = registry();
    let told = 0;
    r.onReshape(() => told++);
    expect(r.reshape(HTTP.latencyByViewMethod, ['tenant'], [0.5, 5])).toBe(true);
    const family = r.histogram(HTTP.latencyByViewMethod);
    expect(family.def.labels).toEqual(['view', 'method', 'tenant']);
    expect(family.bounds).toEqual([0.5, 5]);
    expect(family.name).toBe('shop_django_http_requests_latency_seconds_by_view_method');
    expect(told).toBe(1);
    // The same shape again changes nothing and tells no one.
    expect(r.reshape(HTTP.latencyByViewMethod, ['tenant'], [0.5, 5])).toBe(true);
    expect(told).toBe(1);
  });

  test('once a family has samples it keeps its shape; an unlabelled one at 0 has none yet', () => {
    const r = registry();
    expect(r.reshape(HTTP.ajaxRequests, ['tenant'])).toBe(true);
    r.counter(HTTP.ajaxRequests).add(['acme']);
    expect(r.reshape(HTTP.ajaxRequests, [])).toBe(false);
    r.counter(HTTP.requestsBefore).inc();
    expect(r.reshape(HTTP.requestsBefore, ['x'])).toBe(false);
    expect(r.counter(HTTP.requestsBefore).def).toBe(HTTP.requestsBefore);
  });
});

describe('the multi-process merge keeps the extra labels', () => {
  const shaped: FamilyDef = deriveFamily(HTTP.requestsByMethod, ['tenant']);

  test('states with the same extra labels add up under them', () => {
    const table = new MergeTable();
    table.begin();
    for (const n of [1, 2]) [...table.add(decodeState(encodeState([values(shaped, [[['GET', 'acme'], n]])]))!, true)];
    const out = table.finish();
    let step = out.next();
    while (!step.done) step = out.next();
    const [family] = step.value;
    expect(family!.def.labels).toEqual(['method', 'tenant']);
    expect([...family!.points].map((p) => [p.labels, (p as { value: number }).value])).toEqual([[['GET', 'acme'], 3]]);
  });

  test('a state whose labels differ from the first one seen is left out, and said so', () => {
    const mismatched: string[] = [];
    const table = new MergeTable({ mismatch: (name) => mismatched.push(name) });
    table.begin();
    [...table.add(decodeState(encodeState([values(shaped, [[['GET', 'acme'], 1]])]))!, true)];
    [...table.add(decodeState(encodeState([values(HTTP.requestsByMethod, [[['GET'], 5]])]))!, true)];
    expect(mismatched).toEqual([HTTP.requestsByMethod.name]);
  });
});

describe('configure() called before start()', () => {
  test('applies when the package starts; a later call replaces the hooks it passes, the others stay', async () => {
    configure({
      extraLabels: { django_http_requests_total_by_view_transport_method_total: ['tier'], django_http_responses_total_by_status_view_method_total: ['tier'] },
      labelMetric: (_metric, labels) => ({ ...labels, tier: 'gold' }),
      viewName: ({ framework, route }) => (framework === 'node:http' && route === undefined ? 'plain' : undefined),
    });
    const distribution = (await start({ config: readConfig({ PROMETHEUS_METRICS_EXPORT_PORT: 'off', PROMETHEUS_RUNTIME_METRICS: 'false' }, () => {}) }))!;
    const server = createServer((_req, res) => res.end('x'));
    try {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const completed = async (n: number) => {
        for (let i = 0; i < 200 && valueOf(parseExposition(await distribution.scrape()), 'django_http_responses_before_middlewares_total') !== n; i++) await new Promise((r) => setTimeout(r, 10));
      };
      await (await fetch(url)).text();
      await completed(1);
      configure({ viewName: undefined });
      await (await fetch(url)).text();
      await completed(2);
      const exp = parseExposition(await distribution.scrape());
      expect(vectorOf(exp, 'django_http_requests_total_by_view_transport_method_total')).toEqual(['{"method":"GET","tier":"gold","transport":"http","view":"plain"} 1']);
      expect(vectorOf(exp, 'django_http_responses_total_by_status_view_method_total')).toEqual([
        '{"method":"GET","status":"200","tier":"gold","view":"<unnamed view>"} 1',
        '{"method":"GET","status":"200","tier":"gold","view":"plain"} 1',
      ]);
    } finally {
      server.close();
      await distribution.shutdown();
    }
  });
});
