import type { FamilyDef } from '../../views/index.js';

/**
 * The collected data every output reads (Prometheus text, and next OpenMetrics, OTLP and the
 * multi-process merge): a family's definition, its exposed name, and its series as label values
 * and numbers. Nothing here is formatted. A store family hands out its live series (no copy per
 * scrape); each one is read in one synchronous step, so an output sees each series consistent.
 */

/**
 * An observed value with the labels that tie it to a trace, as OpenMetrics exemplars carry them.
 * A counter series keeps one, a histogram series one per bucket; outputs without exemplars
 * (Prometheus 0.0.4 text) ignore them.
 */
export interface Exemplar {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Seconds since the epoch. */
  readonly timestamp: number;
  /** One slot for an output's rendering of this exemplar (a recording replaces the object, never changes it). */
  outputCache: unknown;
}

/**
 * What a recording that carries an exemplar passes to the store: the trace labels and the time.
 * The store adds the recorded value itself (the increment, or the observed value).
 */
export type ExemplarTrace = Omit<Exemplar, 'value' | 'outputCache'>;

/** One series: label values in the family's declared label order. */
export interface Point {
  readonly labels: readonly string[];
}

/** A counter's or gauge's series. */
export interface ValuePoint extends Point {
  readonly value: number;
  /** A counter's latest exemplar, if one was recorded. */
  readonly exemplar?: Exemplar | undefined;
}

/** A histogram's series: `counts` per bucket (not cumulative), the `+Inf` bucket last. */
export interface HistogramPoint extends Point {
  readonly counts: ArrayLike<number>;
  readonly sum: number;
  readonly count: number;
  /** Each bucket's latest exemplar (same indexes as `counts`), once any was recorded. */
  readonly exemplars?: ReadonlyArray<Exemplar | undefined> | undefined;
}

interface SnapshotOf<T extends FamilyDef['type'], P extends Point> {
  readonly def: FamilyDef & { readonly type: T };
  /** Exposed name (namespace applied where the family takes it). */
  readonly name: string;
  readonly points: Iterable<P>;
}

export type CounterSnapshot = SnapshotOf<'counter', ValuePoint>;
export type GaugeSnapshot = SnapshotOf<'gauge', ValuePoint>;
export interface HistogramSnapshot extends SnapshotOf<'histogram', HistogramPoint> {
  /** Upper bounds of the finite buckets; `+Inf` is implicit. */
  readonly bounds: readonly number[];
}

export type FamilySnapshot = CounterSnapshot | GaugeSnapshot | HistogramSnapshot;

/**
 * Values computed when a scrape or an export asks (runtime metrics, migration gauges): the
 * registry calls `collect()` once per collection, after its own families, in registration order.
 * A collector that throws is contained: its families are left out of that collection.
 */
export interface Collector {
  collect(): Iterable<FamilySnapshot>;
}
