import { emptyResource } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, test } from 'vitest';
import { BATCH_POINTS, batches, failureReporter } from '../../src/otlp/exporter.js';

/** A sum named `name` with `n` points, valued 0..n-1. */
function sum(name: string, n: number): MetricData {
  const dataPoints = Array.from({ length: n }, (_, i) => ({ startTime: [0, 0] as [number, number], endTime: [1, 0] as [number, number], attributes: { i }, value: i }));
  return { descriptor: { name, description: '', unit: '', valueType: 1 }, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints };
}

describe('batches: an export cut into requests', () => {
  const collection: ResourceMetrics = {
    resource: emptyResource(),
    scopeMetrics: [
      { scope: { name: 'app' }, metrics: [sum('a', 100), sum('empty', 0)] },
      { scope: { name: 'otel-django-metrics' }, metrics: [sum('b', 5000), sum('c', 3000)] },
    ],
  };
  const cut = [...batches(collection)];

  test('small first, doubling up to BATCH_POINTS.most, the rest in the last', () => {
    expect(BATCH_POINTS).toEqual({ first: 125, most: 2000 });
    const sizes = cut.map((b) => b.scopeMetrics.flatMap((s) => s.metrics).reduce((n, m) => n + m.dataPoints.length, 0));
    expect(sizes).toEqual([125, 250, 500, 1000, 2000, 2000, 2000, 225]);
  });

  test('every point once, in order, under its scope and metric; the resource on every request', () => {
    const flat = cut.flatMap((b) => b.scopeMetrics.flatMap((s) => s.metrics.flatMap((m) => m.dataPoints.map((p) => `${s.scope.name}/${m.descriptor.name}/${p.value}`))));
    const whole = collection.scopeMetrics.flatMap((s) => s.metrics.flatMap((m) => m.dataPoints.map((p) => `${s.scope.name}/${m.descriptor.name}/${p.value}`)));
    expect(flat).toEqual(whole);
    expect(cut.every((b) => b.resource === collection.resource)).toBe(true);
    // A metric without points still goes out (with its scope), as the SDK hands it over.
    expect(cut[0]!.scopeMetrics.map((s) => [s.scope.name, s.metrics.map((m) => m.descriptor.name)])).toEqual([
      ['app', ['a', 'empty']],
      ['otel-django-metrics', ['b']],
    ]);
  });

  test('nothing to send: no request', () => {
    expect([...batches({ resource: emptyResource(), scopeMetrics: [] })]).toEqual([]);
  });
});

describe('failureReporter: one line per kind of failure', () => {
  test('each kind once, credentials left out of the URL', () => {
    const lines: string[] = [];
    const report = failureReporter({ url: 'https://user:secret@collector.example:4318/v1/metrics', timeoutMillis: 1500 }, (l) => lines.push(l));
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const http = (code: number) => Object.assign(new Error('Internal Server Error'), { code });
    for (const error of [refused, refused, http(500), http(500), http(401), new Error('Request timed out'), new Error('Export failed with retryable status'), new Error('Request timed out')]) report(error);
    const target = 'OTLP export to https://collector.example:4318/v1/metrics failed: ';
    const later = '; the next exports go on, and further failures of this kind are not logged';
    expect(lines).toEqual([
      `${target}the receiver is unreachable (ECONNREFUSED)${later}`,
      `${target}HTTP 500${later}`,
      `${target}HTTP 401${later}`,
      `${target}no response within 1500 ms (OTEL_EXPORTER_OTLP_TIMEOUT)${later}`,
      `${target}the receiver kept answering 429, 502, 503 or 504 until the timeout${later}`,
    ]);
  });
});
