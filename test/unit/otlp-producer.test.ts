import { AggregationTemporality, DataPointType, type HistogramMetricData, type MetricData, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { afterAll, describe, expect, test } from 'vitest';
import { setContainmentLog } from '../../src/contain.js';
import { writeExposition } from '../../src/exposition/prometheus-text.js';
import { logLine } from '../../src/log.js';
import { FAMILY_SCOPE, FamilyConverter, familyProducer, losesInnerTotal } from '../../src/otlp/producer.js';
import { startRuntimeMetrics } from '../../src/runtime/index.js';
import { Registry } from '../../src/store/registry.js';
import { ALL_FAMILIES, BODY_BUCKETS, DEFAULT_LATENCY_BUCKETS, HTTP, type FamilyDef } from '../../views/index.js';
import { parseExposition } from '../support/exposition.js';

/** A registry where every family of the catalog has one series (label values `v-<label>`) and known values. */
function busyRegistry(namespace = ''): Registry {
  const registry = new Registry({ namespace, latencyBuckets: DEFAULT_LATENCY_BUCKETS, maxSeriesPerMetric: 3 }, () => {});
  const values = (def: FamilyDef) => def.labels.map((l) => `v-${l}`);
  for (const def of ALL_FAMILIES) {
    if (def.type === 'counter' && def.labels.length === 0) registry.counter(def).inc(2);
    else if (def.type === 'counter') registry.counter(def).add(values(def), 2);
    if (def.type === 'histogram' && def.labels.length === 0) registry.histogram(def).observe(0.2);
    else if (def.type === 'histogram') registry.histogram(def).observeWith(values(def), 0.2);
  }
  return registry;
}

const runtime = startRuntimeMetrics();
afterAll(runtime.stop);

const START = Date.UTC(2026, 0, 1, 12, 0, 0, 250);
const convert = (registry: Registry) => new FamilyConverter(START).convert(registry.collect());
const byName = (metrics: MetricData[]) => new Map(metrics.map((m) => [m.descriptor.name, m]));

/** The counters whose names have an inner `total` token: the nine per-dimension HTTP counters of django-prometheus. */
const INNER_TOTAL = [
  'django_http_requests_total_by_method_total',
  'django_http_requests_total_by_transport_total',
  'django_http_requests_total_by_view_transport_method_total',
  'django_http_responses_total_by_templatename_total',
  'django_http_responses_total_by_status_total',
  'django_http_responses_total_by_status_view_method_total',
  'django_http_responses_total_by_charset_total',
  'django_http_exceptions_total_by_type_total',
  'django_http_exceptions_total_by_view_total',
];

describe('the families as OpenTelemetry metric data', () => {
  test('every family with a series, named as exposed, described by its HELP, no unit, cumulative, double values', async () => {
    const registry = busyRegistry();
    const metrics = await convert(registry);
    expect(metrics.map((m) => m.descriptor.name)).toEqual([...registry.collect()].filter((s) => [...s.points].length > 0).map((s) => s.name));
    // The migration gauges are a collector's (none here).
    expect(metrics.length).toBe(ALL_FAMILIES.filter((d) => d.type !== 'gauge').length);
    for (const m of metrics) {
      const def = ALL_FAMILIES.find((d) => d.name === m.descriptor.name)!;
      expect({ description: m.descriptor.description, unit: m.descriptor.unit, valueType: m.descriptor.valueType }).toEqual({ description: def.help, unit: '', valueType: 1 });
      if (m.dataPointType !== DataPointType.GAUGE) expect(m.aggregationTemporality).toBe(AggregationTemporality.CUMULATIVE);
    }
  });

  test('counters are monotonic sums, except the nine whose names have an inner total: non-monotonic sums (a Collector keeps their names)', async () => {
    const metrics = await convert(busyRegistry());
    const sums = metrics.filter((m): m is SumMetricData => m.dataPointType === DataPointType.SUM);
    expect(sums.filter((m) => !m.isMonotonic).map((m) => m.descriptor.name)).toEqual(INNER_TOTAL);
    expect(sums.filter((m) => m.isMonotonic).map((m) => m.descriptor.name)).toEqual(ALL_FAMILIES.filter((d) => d.type === 'counter' && !INNER_TOTAL.includes(d.name)).map((d) => d.name));
    expect(ALL_FAMILIES.filter((d) => d.type === 'counter' && losesInnerTotal(d.name)).map((d) => d.name)).toEqual(INNER_TOTAL);
  });

  test('values and attributes: the label names of the family, the series values; start at the distribution start, end now', async () => {
    const before = Date.now();
    const metrics = byName(await convert(busyRegistry()));
    const byView = metrics.get(HTTP.requestsByViewTransportMethod.name) as SumMetricData;
    expect(byView.dataPoints.map((p) => [p.attributes, p.value])).toEqual([[{ view: 'v-view', transport: 'v-transport', method: 'v-method' }, 2]]);
    const point = byView.dataPoints[0]!;
    expect(point.startTime).toEqual([Math.floor(START / 1000), 250_000_000]);
    const endMs = point.endTime[0] * 1000 + point.endTime[1] / 1e6;
    expect(endMs).toBeGreaterThanOrEqual(before - 1);
    expect(endMs).toBeLessThanOrEqual(Date.now() + 1);
  });

  test("histograms: the catalog's bounds (latency, body), per-bucket counts, sum and count", async () => {
    const metrics = byName(await convert(busyRegistry()));
    const latency = metrics.get(HTTP.latencyByViewMethod.name) as HistogramMetricData;
    const at = DEFAULT_LATENCY_BUCKETS.findIndex((b) => 0.2 <= b);
    expect(latency.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ view: 'v-view', method: 'v-method' }, { buckets: { boundaries: [...DEFAULT_LATENCY_BUCKETS], counts: DEFAULT_LATENCY_BUCKETS.concat(Infinity).map((_, i) => (i === at ? 1 : 0)) }, sum: 0.2, count: 1 }],
    ]);
    const body = metrics.get(HTTP.requestBodyBytes.name) as HistogramMetricData;
    expect(body.dataPoints[0]!.value.buckets.boundaries).toEqual([...BODY_BUCKETS]);
  });

  test("a conversion copies the counts: the store's later changes are the next conversion's", async () => {
    const registry = busyRegistry();
    const converter = new FamilyConverter(START);
    const first = byName(await converter.convert(registry.collect()));
    registry.counter(HTTP.requestsBefore).inc();
    registry.histogram(HTTP.latencyIncludingMiddlewares).observe(0.2);
    const second = byName(await converter.convert(registry.collect()));
    const value = (m: Map<string, MetricData>) => (m.get(HTTP.requestsBefore.name) as SumMetricData).dataPoints[0]!.value;
    const count = (m: Map<string, MetricData>) => (m.get(HTTP.latencyIncludingMiddlewares.name) as HistogramMetricData).dataPoints[0]!.value;
    expect([value(first), value(second)]).toEqual([2, 3]);
    expect([count(first).count, count(second).count, count(first).buckets.counts.reduce((a, b) => a + b)]).toEqual([1, 2, 1]);
  });

  test('the overflow series carries its own label', async () => {
    const registry = busyRegistry();
    const family = registry.counter(HTTP.requestsByMethod);
    for (const method of ['POST', 'PUT', 'PATCH']) family.add([method]);
    const metric = byName(await convert(registry)).get(HTTP.requestsByMethod.name) as SumMetricData;
    expect(metric.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ method: 'v-method' }, 2],
      [{ method: 'POST' }, 1],
      [{ method: 'PUT' }, 1],
      [{ otel_metric_overflow: 'true' }, 1],
    ]);
  });

  test('the runtime families come along, under the same scope', async () => {
    const registry = busyRegistry();
    registry.addCollector('runtime', runtime.collector);
    const { resourceMetrics, errors } = await familyProducer(() => registry.collect(), new FamilyConverter(START)).collect();
    expect(errors).toEqual([]);
    expect(resourceMetrics.scopeMetrics.map((s) => s.scope)).toEqual([FAMILY_SCOPE]);
    const names = resourceMetrics.scopeMetrics[0]!.metrics.map((m) => m.descriptor.name);
    expect(names).toContain('process_cpu_seconds_total');
    expect(names).toContain('nodejs_version_info');
    expect(names).toContain('nodejs_heap_space_size_used_bytes');
  });

  test('a source that throws: no families, no error for the reader, one ODM001 line for every failure', async () => {
    const lines: string[] = [];
    setContainmentLog((line) => lines.push(line));
    try {
      const producer = familyProducer(() => {
        throw new Error('merge failed');
      }, new FamilyConverter(START));
      expect(await producer.collect()).toMatchObject({ resourceMetrics: { scopeMetrics: [] }, errors: [] });
      expect(await producer.collect()).toMatchObject({ resourceMetrics: { scopeMetrics: [] }, errors: [] });
    } finally {
      setContainmentLog(logLine);
    }
    expect(lines).toEqual(['ODM001 OTLP collection of the families failed; the measurement is dropped and the app is unaffected: Error: merge failed']);
  });
});

/**
 * OpenTelemetry's translation of an OTLP metric to Prometheus sample names, as the Collector's
 * Prometheus and remote-write exporters and Prometheus's OTLP receiver apply it by default (name
 * split at every character other than [A-Za-z0-9:], the unit's suffix unless present, every
 * `total` of a monotonic sum dropped and one appended, histograms as _bucket, _count and _sum).
 */
function translatedSampleNames(metric: MetricData): string[] {
  const tokens = metric.descriptor.name.split(/[^A-Za-z0-9:]+/).filter(Boolean);
  const units: Record<string, string> = { s: 'seconds', By: 'bytes', ms: 'milliseconds' };
  const unit = units[metric.descriptor.unit] ?? metric.descriptor.unit;
  if (unit !== '' && !tokens.includes(unit)) tokens.push(unit);
  const monotonic = metric.dataPointType === DataPointType.SUM && metric.isMonotonic;
  const name = (monotonic ? [...tokens.filter((t) => t !== 'total'), 'total'] : tokens).join('_');
  return metric.dataPointType === DataPointType.HISTOGRAM ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name];
}

describe('the same PromQL on a scrape and on what a Collector makes of the push', () => {
  test.each(['', 'shop'])('namespace %j: every sample name of the scrape is what the translation makes of the pushed metric', async (namespace) => {
    const registry = busyRegistry(namespace);
    registry.addCollector('runtime', runtime.collector);
    const out: string[] = [];
    await writeExposition(registry.collect(), out);
    const scraped = [...new Set(parseExposition(out.join('')).samples.map((s) => s.name))].sort();
    const pushed = [...new Set((await convert(registry)).flatMap(translatedSampleNames))].sort();
    expect(pushed).toEqual(scraped);
  });

  test('the rule is the one that matters: a monotonic sum would lose the inner total', () => {
    const asMonotonic = { descriptor: { name: 'django_http_requests_total_by_method_total', description: '', unit: '', valueType: 1 }, dataPointType: DataPointType.SUM, isMonotonic: true } as SumMetricData;
    expect(translatedSampleNames(asMonotonic)).toEqual(['django_http_requests_by_method_total']);
    expect(translatedSampleNames({ ...asMonotonic, descriptor: { ...asMonotonic.descriptor, name: 'django_http_latency', unit: 's' } })).toEqual(['django_http_latency_seconds_total']);
  });
});
