import { readdirSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { mergedCollector } from '../../src/cluster/collector.js';
import { MergeTable } from '../../src/cluster/merge.js';
import { ownIdentity, type ProcessIdentity } from '../../src/cluster/process-identity.js';
import { decodeState, encodeState, StateEncoder } from '../../src/cluster/state-format.js';
import { family } from '../../views/family.js';
import { HTTP, MIGRATIONS, SELF } from '../../views/index.js';
import { RUNTIME } from '../../views/runtime.js';
import { exitedId, histogram, liveProcesses, publish, stateDir, text, values } from '../fixtures/multiproc-states.js';

// Three live processes (this one, the oldest, and two children) and one that exited; each
// publishes the same families with its own numbers.
let live: { identities: ProcessIdentity[]; stop(): void };
let A: string, B: string, C: string;
const E = exitedId(1);

beforeAll(async () => {
  live = await liveProcesses(2);
  A = ownIdentity().id;
  [B, C] = live.identities.map((p) => p.id) as [string, string];
});
afterAll(() => live?.stop());

let state: ReturnType<typeof stateDir>;
beforeEach(() => {
  state = stateDir();
});
afterEach(() => state.remove());

const LATENCY = HTTP.latencyIncludingMiddlewares;
const BY_METHOD = HTTP.requestsByMethod;

function publishAll(): void {
  publish(state.dir, A, [
    histogram(LATENCY, [[[], [1, 0, 0], 0.25]]),
    values(BY_METHOD, [[['GET'], 3], [['POST'], 1]], 2),
    values(MIGRATIONS.applied, [[['default'], 3]]),
    values(RUNTIME.startTime, [[[], 100]]),
    values(RUNTIME.residentMemory, [[[], 100]]),
    values(RUNTIME.eventLoopLag, [[[], 0.5]]),
    values(RUNTIME.eventLoopLagMin, [[[], 0.5]]),
    values(RUNTIME.eventLoopLagMax, [[[], 0.5]]),
    values(RUNTIME.versionInfo, [[['v20.20.2', '20', '20', '2'], 1]]),
  ]);
  publish(state.dir, B, [
    histogram(LATENCY, [[[], [0, 2, 1], 3.5]]),
    values(BY_METHOD, [[['GET'], 2]]),
    values(MIGRATIONS.applied, [[['default'], 4], [['other'], 1]]),
    values(RUNTIME.startTime, [[[], 200]]),
    values(RUNTIME.residentMemory, [[[], 200]]),
    values(RUNTIME.eventLoopLag, [[[], 0.25]]),
    values(RUNTIME.eventLoopLagMin, [[[], 0.25]]),
    values(RUNTIME.eventLoopLagMax, [[[], 0.25]]),
    values(RUNTIME.versionInfo, [[['v22.1.0', '22', '1', '0'], 1]]),
  ]);
  publish(state.dir, C, [
    histogram(LATENCY, [[[], [0, 0, 0], 0]]),
    values(BY_METHOD, [[['PUT'], 4]], 5),
    values(RUNTIME.startTime, [[[], 300]]),
    values(RUNTIME.residentMemory, [[[], 300]]),
    values(RUNTIME.eventLoopLag, [[[], 0.75]]),
    values(RUNTIME.eventLoopLagMin, [[[], 0.125]]),
    values(RUNTIME.eventLoopLagMax, [[[], 0.125]]),
  ]);
  // Exited: its counters and histograms stay in the merge, its gauges leave it.
  publish(state.dir, E, [
    histogram(LATENCY, [[[], [1, 1, 0], 0.5]]),
    values(BY_METHOD, [[['GET'], 10], [['DELETE'], 1]]),
    values(MIGRATIONS.applied, [[['default'], 9], [['gone'], 9]]),
    values(RUNTIME.startTime, [[[], 50]]),
    values(RUNTIME.residentMemory, [[[], 1000]]),
    values(RUNTIME.eventLoopLag, [[[], 9]]),
    values(RUNTIME.eventLoopLagMin, [[[], 0.001]]),
    values(RUNTIME.eventLoopLagMax, [[[], 9]]),
  ]);
}

/** The merge of the four processes above, exactly. */
const MERGED = `# HELP django_http_requests_latency_including_middlewares_seconds Histogram of requests processing time (including middleware processing time).
# TYPE django_http_requests_latency_including_middlewares_seconds histogram
django_http_requests_latency_including_middlewares_seconds_bucket{le="0.1"} 2.0
django_http_requests_latency_including_middlewares_seconds_bucket{le="1.0"} 5.0
django_http_requests_latency_including_middlewares_seconds_bucket{le="+Inf"} 6.0
django_http_requests_latency_including_middlewares_seconds_count 6.0
django_http_requests_latency_including_middlewares_seconds_sum 4.25
# HELP django_http_requests_total_by_method_total Count of requests by method.
# TYPE django_http_requests_total_by_method_total counter
django_http_requests_total_by_method_total{method="GET"} 15.0
django_http_requests_total_by_method_total{method="DELETE"} 1.0
django_http_requests_total_by_method_total{method="POST"} 1.0
django_http_requests_total_by_method_total{method="PUT"} 4.0
django_http_requests_total_by_method_total{otel_metric_overflow="true"} 7.0
# HELP django_migrations_applied_total Count of applied migrations by database connection
# TYPE django_migrations_applied_total gauge
django_migrations_applied_total{connection="default"} 4.0
django_migrations_applied_total{connection="other"} 1.0
# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
# TYPE process_start_time_seconds gauge
process_start_time_seconds 100.0
# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 600.0
# HELP nodejs_eventloop_lag_seconds Lag of event loop in seconds.
# TYPE nodejs_eventloop_lag_seconds gauge
nodejs_eventloop_lag_seconds 0.5
# HELP nodejs_eventloop_lag_min_seconds The minimum recorded event loop delay.
# TYPE nodejs_eventloop_lag_min_seconds gauge
nodejs_eventloop_lag_min_seconds 0.125
# HELP nodejs_eventloop_lag_max_seconds The maximum recorded event loop delay.
# TYPE nodejs_eventloop_lag_max_seconds gauge
nodejs_eventloop_lag_max_seconds 0.5
# HELP nodejs_version_info Node.js version info.
# TYPE nodejs_version_info gauge
nodejs_version_info{major="20",minor="20",patch="2",version="v20.20.2"} 1.0
nodejs_version_info{major="22",minor="1",patch="0",version="v22.1.0"} 1.0
`;

describe('a merged collection of live and exited processes', () => {
  test('counters and histograms sum per label set over every process, exited ones included; gauges combine by their rule over the live ones', async () => {
    publishAll();
    expect(await text(await mergedCollector(state.dir).collect())).toBe(MERGED);
  });

  test('the exited process is folded into the retired state: the directory holds the live processes and one retired file', async () => {
    publishAll();
    await mergedCollector(state.dir).collect();
    expect(readdirSync(state.dir).sort()).toEqual([`${A}.state`, `${B}.state`, `${C}.state`, 'retired.state'].sort());
  });

  test('a second collection, by another serving process, reads the retired state: the same exposition', async () => {
    publishAll();
    await mergedCollector(state.dir).collect();
    expect(await text(await mergedCollector(state.dir).collect())).toBe(MERGED);
  });

  test("'first' is the oldest live process's value, whatever order the files are listed in", async () => {
    publish(state.dir, C, [values(RUNTIME.startTime, [[[], 300]])]);
    publish(state.dir, B, [values(RUNTIME.startTime, [[[], 200]])]);
    expect(await text(await mergedCollector(state.dir).collect())).toContain('\nprocess_start_time_seconds 200.0\n');
    publish(state.dir, A, [values(RUNTIME.startTime, [[[], 100]])]);
    expect(await text(await mergedCollector(state.dir).collect())).toContain('\nprocess_start_time_seconds 100.0\n');
  });

  test("'average' divides by the processes that have the series, not by all", async () => {
    publish(state.dir, A, [values(MIGRATIONS.applied, [[['default'], 1]]), values(RUNTIME.eventLoopLag, [[[], 0.5]])]);
    publish(state.dir, B, [values(RUNTIME.eventLoopLag, [[[], 0.25]])]);
    publish(state.dir, C, [values(MIGRATIONS.applied, [[['default'], 1]])]);
    expect(await text(await mergedCollector(state.dir).collect())).toContain('\nnodejs_eventloop_lag_seconds 0.375\n');
  });

  test('the self metric sums over the processes; it is exposed under its own name whatever the namespace', async () => {
    const timeouts = (n: number) => values(SELF.multiprocessTimeouts, [[[], n]]);
    publish(state.dir, A, [timeouts(1)]);
    publish(state.dir, B, [timeouts(2)]);
    publish(state.dir, E, [timeouts(4)]);
    expect(await text(await mergedCollector(state.dir).collect())).toBe(
      `# HELP otel_django_metrics_multiprocess_timeouts_total Scrapes that used a process's last published values because it did not publish in time.
# TYPE otel_django_metrics_multiprocess_timeouts_total counter
otel_django_metrics_multiprocess_timeouts_total 7.0
`,
    );
  });

  test('families merge by exposed name: a namespaced family is its own', async () => {
    publish(state.dir, A, [{ ...values(BY_METHOD, [[['GET'], 1]]), name: 'shop_django_http_requests_total_by_method_total' }]);
    publish(state.dir, B, [values(BY_METHOD, [[['GET'], 2]]), { ...values(BY_METHOD, [[['GET'], 3]]), name: 'shop_django_http_requests_total_by_method_total' }]);
    const exposed = await text(await mergedCollector(state.dir).collect());
    expect(exposed).toContain('\ndjango_http_requests_total_by_method_total{method="GET"} 2.0\n');
    expect(exposed).toContain('\nshop_django_http_requests_total_by_method_total{method="GET"} 4.0\n');
  });

  test('a family an older or newer version publishes under a name this one does not know is left out', async () => {
    publish(state.dir, A, [{ ...values(BY_METHOD, [[['GET'], 1]]), def: { ...BY_METHOD, name: 'django_unknown_total' } } as never]);
    expect(await text(await mergedCollector(state.dir).collect())).toBe('');
  });

  test('a damaged or foreign file is skipped, the others merge', async () => {
    const { writeFileSync } = await import('node:fs');
    publish(state.dir, A, [values(BY_METHOD, [[['GET'], 1]])]);
    writeFileSync(`${state.dir}/${B}.state`, '{"version":1,"strings":[],"families":[]}');
    writeFileSync(`${state.dir}/${C}.state`, encodeState([values(BY_METHOD, [[['GET'], 5]])]).subarray(0, 30));
    expect(await text(await mergedCollector(state.dir).collect())).toContain('\ndjango_http_requests_total_by_method_total{method="GET"} 1.0\n');
  });
});

describe('MergeTable rules', () => {
  const state = (families: Parameters<typeof encodeState>[0]) => decodeState(encodeState(families))!;
  const drain = <T>(steps: Generator<void, T>): T => {
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
    }
  };
  /** One round of `table` over `states` ([state, live]); the exposition it gives. */
  const round = (table: MergeTable, ...states: Array<[ReturnType<typeof state>, boolean, string?]>) => {
    table.begin();
    for (const [s, live, source] of states) drain(table.add(s, live, source));
    return text(drain(table.finish()));
  };

  test("'omit' leaves the family out of the merge", async () => {
    const omitted = family({ name: 'some_fact', help: 'A per-process fact.', type: 'gauge', labels: [], group: 'runtime', merge: 'omit' });
    const table = new MergeTable({ lookup: (name) => (name === 'some_fact' ? omitted : undefined) });
    expect(await round(table, [state([values(omitted, [[[], 1]])]), true])).toBe('');
  });

  test('a histogram whose buckets differ from those it was first seen with is skipped, and named', async () => {
    const mismatched: string[] = [];
    const table = new MergeTable({ mismatch: (name) => mismatched.push(name) });
    const exposed = await round(table, [state([histogram(LATENCY, [[[], [1, 0, 0], 0.05]])]), true], [state([histogram(LATENCY, [[[], [0, 0, 0, 7] as never, 1]], [0.1, 0.5, 1])]), true]);
    expect(mismatched).toEqual([LATENCY.name]);
    expect(exposed).toContain(`\n${LATENCY.name}_count 1.0\n`);
  });

  test('an exited process (not live) brings no gauges, even when it is the only one with them', async () => {
    expect(await round(new MergeTable(), [state([values(MIGRATIONS.applied, [[['default'], 3]]), values(BY_METHOD, [[['GET'], 1]])]), false])).toBe(`# HELP django_http_requests_total_by_method_total Count of requests by method.
# TYPE django_http_requests_total_by_method_total counter
django_http_requests_total_by_method_total{method="GET"} 1.0
`);
  });

  test('label values with quotes, backslashes and newlines survive the state and merge as one series', async () => {
    const odd = 'a"b\\c\nd';
    expect(await round(new MergeTable(), [state([values(BY_METHOD, [[[odd], 1]])]), true], [state([values(BY_METHOD, [[[odd], 2]])]), true])).toContain('{method="a\\"b\\\\c\\nd"} 3.0\n');
  });

  test('a source seen again under the same string table resolves its series as before; under a new table, by their labels', async () => {
    const table = new MergeTable();
    const encoder = new StateEncoder();
    const a = (n: number) => decodeState(Buffer.concat(encoder.encode([values(BY_METHOD, [[['GET'], n], [['POST'], 1]])])))!;
    expect(await round(table, [a(1), true, 'p'])).toContain('{method="GET"} 1.0\n');
    expect(await round(table, [a(2), true, 'p'])).toContain('{method="GET"} 2.0\n');
    // Another encoder (a restarted publisher) numbers its strings otherwise: POST first.
    const b = decodeState(encodeState([values(BY_METHOD, [[['POST'], 5], [['GET'], 3]])]))!;
    const exposed = await round(table, [b, true, 'p']);
    expect(exposed).toContain('{method="GET"} 3.0\n');
    expect(exposed).toContain('{method="POST"} 5.0\n');
  });

  test('gauges: only the series a state of this round had; counters: every series ever merged, at its highest', async () => {
    const table = new MergeTable();
    await round(table, [state([values(MIGRATIONS.applied, [[['default'], 3], [['other'], 1]]), values(BY_METHOD, [[['GET'], 4], [['PUT'], 1]])]), true]);
    const second = await round(table, [state([values(MIGRATIONS.applied, [[['default'], 2]]), values(BY_METHOD, [[['GET'], 3]])]), true]);
    expect(second).toContain('django_migrations_applied_total{connection="default"} 2.0\n');
    expect(second).not.toContain('connection="other"');
    expect(second).toContain('{method="GET"} 4.0\n');
    expect(second).toContain('{method="PUT"} 1.0\n');
  });
});
