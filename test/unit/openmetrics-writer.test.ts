import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { describe, expect, test } from 'vitest';
import { HTTP, MIGRATIONS } from '../../views/index.js';
import { family } from '../../views/family.js';
import { OPENMETRICS } from '../../src/exposition/openmetrics.js';
import { writeExposition } from '../../src/exposition/prometheus-text.js';
import { scrapeSourceOf } from '../../src/exposition/write-scrape.js';
import { Registry } from '../../src/store/registry.js';
import type { ExemplarTrace, FamilySnapshot } from '../../src/store/snapshot.js';

const TRACE_A = 'a'.repeat(32);
const TRACE_B = 'b'.repeat(32);
const trace = (traceId: string, spanId: string, timestamp: number): ExemplarTrace => ({ labels: { trace_id: traceId, span_id: spanId }, timestamp });

function registry(): Registry {
  return new Registry({ namespace: '', latencyBuckets: [0.1, 1], maxSeriesPerMetric: 100 });
}

/** The named families of a collection, in collection order. */
function only(r: Registry, ...names: string[]): FamilySnapshot[] {
  return [...r.collect()].filter((s) => names.includes(s.name));
}

async function write(snapshots: Iterable<FamilySnapshot>, flavour = OPENMETRICS): Promise<string> {
  const out: string[] = [];
  await writeExposition(snapshots, out, undefined, flavour);
  return out.join('');
}

describe('OpenMetrics text of the collected families', () => {
  test('counters: the family is named without _total, its samples with it; TYPE before HELP; the latest sampled increment is the exemplar', async () => {
    const r = registry();
    r.counter(HTTP.requestsBefore).inc();
    const perView = r.counter(HTTP.requestsByViewTransportMethod);
    perView.add(['/orders', 'http', 'GET'], 1, trace(TRACE_A, '1111111111111111', 1700000000.25));
    perView.add(['/orders', 'http', 'GET'], 1, trace(TRACE_B, '2222222222222222', 1700000001.5));
    // An increment outside any sampled trace counts, and leaves the exemplar as it was.
    perView.add(['/orders', 'http', 'GET']);
    perView.add(['/health', 'http', 'GET']);

    expect(await write(only(r, HTTP.requestsBefore.name, HTTP.requestsByViewTransportMethod.name))).toBe(
      '# TYPE django_http_requests_before_middlewares counter\n' +
        '# HELP django_http_requests_before_middlewares Total count of requests before middlewares run.\n' +
        'django_http_requests_before_middlewares_total 1.0\n' +
        '# TYPE django_http_requests_total_by_view_transport_method counter\n' +
        '# HELP django_http_requests_total_by_view_transport_method Count of requests by view, transport, method.\n' +
        `django_http_requests_total_by_view_transport_method_total{method="GET",transport="http",view="/orders"} 3.0 # {trace_id="${TRACE_B}",span_id="2222222222222222"} 1.0 1700000001.500\n` +
        'django_http_requests_total_by_view_transport_method_total{method="GET",transport="http",view="/health"} 1.0\n',
    );
  });

  test('an exemplar is rendered once and kept while no request replaces it; a new one shows at the next scrape', async () => {
    const r = registry();
    const perView = r.counter(HTTP.requestsByViewTransportMethod);
    perView.add(['/orders', 'http', 'GET'], 1, trace(TRACE_A, '1111111111111111', 1700000000));
    const scrape = () => write(only(r, HTTP.requestsByViewTransportMethod.name));
    const first = await scrape();
    const [point] = [...only(r, HTTP.requestsByViewTransportMethod.name)[0]!.points] as { exemplar?: { outputCache: unknown } }[];
    expect(point!.exemplar!.outputCache).toBe(` # {trace_id="${TRACE_A}",span_id="1111111111111111"} 1.0 1700000000.000`);
    expect(await scrape()).toBe(first);
    perView.add(['/orders', 'http', 'GET'], 1, trace(TRACE_B, '2222222222222222', 1700000001));
    expect(await scrape()).toContain(`2.0 # {trace_id="${TRACE_B}",span_id="2222222222222222"} 1.0 1700000001.000\n`);
  });

  test('histograms: each exemplar sits on the bucket its value fell in (the latest per bucket), with the observed value', async () => {
    const r = registry();
    const latency = r.histogram(HTTP.latencyByViewMethod);
    latency.observeWith(['/orders', 'GET'], 0.05, trace(TRACE_A, '1111111111111111', 1700000000));
    latency.observeWith(['/orders', 'GET'], 0.5, trace(TRACE_A, '3333333333333333', 1700000002));
    latency.observeWith(['/orders', 'GET'], 0.07, trace(TRACE_B, '2222222222222222', 1700000003));
    latency.observeWith(['/orders', 'GET'], 2);
    const name = 'django_http_requests_latency_seconds_by_view_method';

    expect(await write(only(r, name))).toBe(
      `# TYPE ${name} histogram\n` +
        `# HELP ${name} Histogram of request processing time labelled by view.\n` +
        `${name}_bucket{le="0.1",method="GET",view="/orders"} 2.0 # {trace_id="${TRACE_B}",span_id="2222222222222222"} 0.07 1700000003.000\n` +
        `${name}_bucket{le="1.0",method="GET",view="/orders"} 3.0 # {trace_id="${TRACE_A}",span_id="3333333333333333"} 0.5 1700000002.000\n` +
        `${name}_bucket{le="+Inf",method="GET",view="/orders"} 4.0\n` +
        `${name}_count{method="GET",view="/orders"} 4.0\n` +
        `${name}_sum{method="GET",view="/orders"} 2.62\n`,
    );
  });

  test('the Prometheus 0.0.4 text of a store with exemplars is byte for byte that of the same store without', async () => {
    const text = async (traced: boolean): Promise<string> => {
      const r = registry();
      const t = traced ? trace(TRACE_A, '1111111111111111', 1700000000) : undefined;
      r.histogram(HTTP.latencyIncludingMiddlewares).observe(0.05, t);
      r.counter(HTTP.responsesByStatusViewMethod).add(['200', '/orders', 'GET'], 1, t);
      const out: string[] = [];
      await writeExposition(only(r, HTTP.latencyIncludingMiddlewares.name, HTTP.responsesByStatusViewMethod.name), out);
      return out.join('');
    };
    const plain = await text(false);
    expect(plain).toContain('django_http_responses_total_by_status_view_method_total{method="GET",status="200",view="/orders"} 1.0\n');
    expect(await text(true)).toBe(plain);
  });

  test('a gauge named _total keeps its name on the family and its samples; HELP and label values are escaped (\\\\, \\", \\n)', async () => {
    const awkward = family({ name: 'odd_requests_total', help: 'Say "hi" to C:\\temp\nand more', type: 'counter', labels: ['path'], group: 'http' });
    const snapshots: FamilySnapshot[] = [
      { def: MIGRATIONS.unapplied as FamilySnapshot['def'] & { type: 'gauge' }, name: MIGRATIONS.unapplied.name, points: [{ labels: ['de"fault\\\nx'], value: 2 }] },
      { def: awkward as FamilySnapshot['def'] & { type: 'counter' }, name: awkward.name, points: [{ labels: ['a"b'], value: 1 }] },
    ];
    expect(await write(snapshots)).toBe(
      '# TYPE django_migrations_unapplied_total gauge\n' +
        '# HELP django_migrations_unapplied_total Count of unapplied migrations by database connection\n' +
        'django_migrations_unapplied_total{connection="de\\"fault\\\\\\nx"} 2.0\n' +
        '# TYPE odd_requests counter\n' +
        '# HELP odd_requests Say \\"hi\\" to C:\\\\temp\\nand more\n' +
        'odd_requests_total{path="a\\"b"} 1.0\n',
    );
  });

  test("an exemplar's label values are escaped; one whose labels pass 128 characters is left out", async () => {
    const def = HTTP.requestsByMethod as FamilySnapshot['def'] & { type: 'counter' };
    const labels = (note: string) => ({ trace_id: TRACE_A, span_id: '1111111111111111', note });
    const point = (method: string, note: string) => ({ labels: [method], value: 1, exemplar: { labels: labels(note), value: 1, timestamp: 1700000000 } });
    // trace_id + span_id + their values: 63 characters; `note` and its value make up the rest.
    const fits = 'x'.repeat(128 - 63 - 'note'.length);
    const text = await write([{ def, name: def.name, points: [point('GET', 'a"\\'), point('PUT', fits), point('POST', `${fits}x`)] }]);
    expect(text.split('\n').slice(2, 5)).toEqual([
      `django_http_requests_total_by_method_total{method="GET"} 1.0 # {trace_id="${TRACE_A}",span_id="1111111111111111",note="a\\"\\\\"} 1.0 1700000000.000`,
      `django_http_requests_total_by_method_total{method="PUT"} 1.0 # {trace_id="${TRACE_A}",span_id="1111111111111111",note="${fits}"} 1.0 1700000000.000`,
      'django_http_requests_total_by_method_total{method="POST"} 1.0',
    ]);
  });
});

/** A reader that only collects on demand, as the scrape does. */
class OnDemandReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

describe('a whole OpenMetrics scrape', () => {
  async function scrape(format: 'text' | 'openmetrics', withOtelInfo: boolean): Promise<string> {
    const reader = new OnDemandReader();
    const provider = new MeterProvider({ readers: [reader], resource: resourceFromAttributes({ 'service.name': 'shop "eu"' }) });
    const meter = provider.getMeter('shop', '1.0.0');
    meter.createCounter('orders', { description: 'Orders.' }).add(2, { payment: 'card' });
    meter.createCounter('refunds_total', { description: 'Refunds.' }).add(1);
    meter.createUpDownCounter('queue_depth_total', { description: 'Queued jobs.' }).add(3);
    meter.createHistogram('checkout_seconds', { description: 'Checkout time.', advice: { explicitBucketBoundaries: [1] } }).record(0.5);
    const r = registry();
    r.counter(HTTP.requestsBefore).inc();
    const source = scrapeSourceOf(
      () => only(r, HTTP.requestsBefore.name),
      async () => (await reader.collect()).resourceMetrics,
      withOtelInfo,
    );
    const out: string[] = [];
    await source(out, undefined, format);
    await provider.shutdown();
    return out.join('');
  }

  test("target metadata first (an info family), then the families, then the app's own instruments, # EOF last", async () => {
    expect(await scrape('openmetrics', true)).toBe(
      '# TYPE target info\n# HELP target Target metadata\n' +
        'target_info{service_name="shop \\"eu\\""} 1\n' +
        '# TYPE django_http_requests_before_middlewares counter\n' +
        '# HELP django_http_requests_before_middlewares Total count of requests before middlewares run.\n' +
        'django_http_requests_before_middlewares_total 1.0\n' +
        '# TYPE orders counter\n# HELP orders Orders.\n' +
        'orders_total{otel_scope_name="shop",otel_scope_version="1.0.0",payment="card"} 2.0\n' +
        '# TYPE refunds counter\n# HELP refunds Refunds.\n' +
        'refunds_total{otel_scope_name="shop",otel_scope_version="1.0.0"} 1.0\n' +
        '# TYPE queue_depth_total gauge\n# HELP queue_depth_total Queued jobs.\n' +
        'queue_depth_total{otel_scope_name="shop",otel_scope_version="1.0.0"} 3.0\n' +
        '# TYPE checkout_seconds histogram\n# HELP checkout_seconds Checkout time.\n' +
        'checkout_seconds_bucket{le="1.0",otel_scope_name="shop",otel_scope_version="1.0.0"} 1.0\n' +
        'checkout_seconds_bucket{le="+Inf",otel_scope_name="shop",otel_scope_version="1.0.0"} 1.0\n' +
        'checkout_seconds_count{otel_scope_name="shop",otel_scope_version="1.0.0"} 1.0\n' +
        'checkout_seconds_sum{otel_scope_name="shop",otel_scope_version="1.0.0"} 0.5\n' +
        '# EOF\n',
    );
  });

  test('without PROMETHEUS_OTEL_INFO: no target metadata, no scope labels; the Prometheus text keeps its order and ends without # EOF', async () => {
    const om = await scrape('openmetrics', false);
    expect(om.startsWith('# TYPE django_http_requests_before_middlewares counter\n')).toBe(true);
    expect(om).toContain('orders_total{payment="card"} 2.0\n');
    expect(om.endsWith('checkout_seconds_sum 0.5\n# EOF\n')).toBe(true);
    const text = await scrape('text', true);
    expect(text.split('\n').filter((line) => line.startsWith('# TYPE'))).toEqual([
      '# TYPE django_http_requests_before_middlewares_total counter',
      '# TYPE target_info gauge',
      '# TYPE orders_total counter',
      '# TYPE refunds_total counter',
      '# TYPE queue_depth_total gauge',
      '# TYPE checkout_seconds histogram',
    ]);
    expect(text).toContain('target_info{service_name="shop \\"eu\\""} 1.0\n');
    expect(text.endsWith('checkout_seconds_sum{otel_scope_name="shop",otel_scope_version="1.0.0"} 0.5\n')).toBe(true);
  });
});
