import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type Histogram,
  type MetricData,
  type MetricProducer,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';
import { performance } from 'node:perf_hooks';
import { hookFailed } from '../contain.js';
import { fullLoopTurn } from '../loop-turn.js';
import type { FamilySnapshot, HistogramPoint, HistogramSnapshot, Point, ValuePoint } from '../store/snapshot.js';

/** The families a collection converts: this process's, the multi-process merge, or none (`undefined`). */
export type FamilySource = () => Iterable<FamilySnapshot> | Promise<Iterable<FamilySnapshot>> | undefined;

/** The instrumentation scope the families are reported under. */
export const FAMILY_SCOPE = Object.freeze({ name: 'otel-django-metrics' });

/** Longest stretch a conversion keeps the event loop, in milliseconds (as a scrape). */
const SLICE_MS = 10;

/**
 * Whether a monotonic sum named `name` would lose part of its name on its way to Prometheus:
 * OpenTelemetry's Prometheus translation (the Collector's Prometheus and remote-write exporters,
 * Prometheus's own OTLP receiver) splits a counter's name at every character other than
 * `[A-Za-z0-9:]`, drops every `total` token and appends one, so
 * `django_http_requests_total_by_method_total` would arrive as `django_http_requests_by_method_total`.
 */
export function losesInnerTotal(name: string): boolean {
  const tokens = name.split(/[^A-Za-z0-9:]+/).filter(Boolean);
  return tokens.slice(0, -1).includes('total');
}

/**
 * The families as OpenTelemetry metric data, named so that the same PromQL works on a scrape of
 * the endpoint and on what a Collector or Prometheus makes of the push: the exposed name as it
 * is (counters end in `_total`, which the translation keeps instead of doubling), no unit (a unit
 * would be appended as a suffix: `_seconds`, `_bytes`), cumulative temporality, the catalog's
 * bucket bounds. A counter whose name has an inner `total` (see losesInnerTotal) is sent as a
 * non-monotonic cumulative sum, whose name the translation keeps; Prometheus types it a gauge,
 * which rate(), increase() and sum() do not look at.
 */
export class FamilyConverter {
  /** Each store series' attributes, made on its first conversion (the label values of a series never change). */
  private readonly attributeCache = new WeakMap<Point, Attributes>();

  /** `startTime`: when the cumulative counts began (the distribution's start), ms since the epoch. */
  constructor(private readonly startTime: number) {}

  /** Converts every family, handing the event loop back between slices of at most SLICE_MS. */
  async convert(snapshots: Iterable<FamilySnapshot>): Promise<MetricData[]> {
    const start = hrTimeOf(this.startTime);
    const end = hrTimeOf(performance.timeOrigin + performance.now());
    const metrics: MetricData[] = [];
    let sliceStart = performance.now();
    for (const snapshot of snapshots) {
      const points = snapshot.def.type === 'histogram' ? this.histogramPoints(snapshot as HistogramSnapshot, start, end) : this.valuePoints(snapshot, start, end);
      const dataPoints: DataPoint<number | Histogram>[] = [];
      for (const point of points) {
        dataPoints.push(point);
        if (performance.now() - sliceStart < SLICE_MS) continue;
        await fullLoopTurn();
        sliceStart = performance.now();
      }
      // As the SDK does: a family without a series has nothing to report (the text still names it).
      if (dataPoints.length > 0) metrics.push(metricOf(snapshot, dataPoints));
    }
    return metrics;
  }

  private *valuePoints(snapshot: FamilySnapshot, startTime: HrTime, endTime: HrTime): Generator<DataPoint<number>> {
    for (const point of snapshot.points as Iterable<ValuePoint>) {
      yield { startTime, endTime, attributes: this.attributesOf(point, snapshot.def.labels), value: point.value };
    }
  }

  private *histogramPoints(snapshot: HistogramSnapshot, startTime: HrTime, endTime: HrTime): Generator<DataPoint<Histogram>> {
    // Shared by every point of the family: the encoders only read it.
    const boundaries = snapshot.bounds as number[];
    for (const point of snapshot.points as Iterable<HistogramPoint>) {
      // A copy: the store's counts go on changing while the export is under way.
      const value: Histogram = { buckets: { boundaries, counts: Array.from(point.counts) }, sum: point.sum, count: point.count };
      yield { startTime, endTime, attributes: this.attributesOf(point, snapshot.def.labels), value };
    }
  }

  private attributesOf(point: Point, familyLabels: readonly string[]): Attributes {
    let attributes = this.attributeCache.get(point);
    if (attributes === undefined) {
      // The overflow series carries its own label names.
      const names = (point as { labelNames?: readonly string[] }).labelNames ?? familyLabels;
      attributes = {};
      for (let i = 0; i < names.length; i++) attributes[names[i]!] = point.labels[i] ?? '';
      this.attributeCache.set(point, attributes);
    }
    return attributes;
  }
}

function metricOf(snapshot: FamilySnapshot, dataPoints: DataPoint<number | Histogram>[]): MetricData {
  const descriptor = { name: snapshot.name, description: snapshot.def.help, unit: '', valueType: ValueType.DOUBLE };
  const aggregationTemporality = AggregationTemporality.CUMULATIVE;
  switch (snapshot.def.type) {
    case 'counter':
      return { descriptor, aggregationTemporality, dataPointType: DataPointType.SUM, isMonotonic: !losesInnerTotal(snapshot.name), dataPoints: dataPoints as DataPoint<number>[] };
    case 'gauge':
      return { descriptor, aggregationTemporality, dataPointType: DataPointType.GAUGE, dataPoints: dataPoints as DataPoint<number>[] };
    case 'histogram':
      return { descriptor, aggregationTemporality, dataPointType: DataPointType.HISTOGRAM, dataPoints: dataPoints as DataPoint<Histogram>[] };
  }
}

function hrTimeOf(epochMillis: number): HrTime {
  const seconds = Math.floor(epochMillis / 1000);
  return [seconds, Math.round((epochMillis - seconds * 1000) * 1e6)];
}

/**
 * A MetricProducer of the families: a reader it is given to (`metricProducers`) adds them to what
 * it collects from its MeterProvider, under that provider's resource.
 */
export function familyProducer(source: FamilySource, converter: FamilyConverter): MetricProducer {
  return {
    async collect(): Promise<CollectionResult> {
      const scopeMetrics: ScopeMetrics[] = [];
      try {
        const snapshots = await source();
        if (snapshots !== undefined) scopeMetrics.push({ scope: FAMILY_SCOPE, metrics: await converter.convert(snapshots) });
      } catch (err) {
        // Contained like a scrape: reported once, and the reader exports the rest (the app's own instruments).
        hookFailed('OTLP collection of the families', err);
      }
      return { resourceMetrics: { resource: emptyResource(), scopeMetrics }, errors: [] };
    },
  };
}
