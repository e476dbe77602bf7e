import type { FamilyDef } from '../../views/index.js';
import { storeChanges } from './counter.js';
import { Family, type FamilyOptions, type SeriesBase } from './family.js';
import { LastSeries } from './label-values.js';
import type { Exemplar, ExemplarTrace, HistogramSnapshot } from './snapshot.js';

interface HistogramSeries extends SeriesBase {
  /** Per-bucket (not cumulative) counts; the last slot is `+Inf`. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
  /** Allocated with the first exemplar: most series never get one. */
  exemplars: Array<Exemplar | undefined> | undefined;
}

/** An explicit-bucket histogram family. */
export class Histogram extends Family<HistogramSeries> {
  /** The unlabelled series, present from startup (E8). */
  private readonly single: HistogramSeries | undefined;
  /**
   * The bounds the per-observation search reads: one element kind for every family, so the
   * search's loads stay monomorphic (a plain array of integers and one of fractions differ).
   */
  private readonly search: Float64Array;
  private readonly last = new LastSeries<HistogramSeries>();
  private readonly lookup = (values: readonly string[]): HistogramSeries => this.find(values);

  constructor(
    def: FamilyDef,
    options: FamilyOptions,
    readonly bounds: readonly number[],
  ) {
    super(def, options);
    this.search = Float64Array.from(bounds);
    this.single = def.labels.length === 0 ? this.create([]) : undefined;
  }

  protected create(labels: readonly string[]): HistogramSeries {
    return { labels, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0, exemplars: undefined, outputCache: undefined };
  }

  /** Unlabelled observation; with `trace`, also the exemplar of the bucket it falls in. */
  observe(value: number, trace?: ExemplarTrace): void {
    record(this.single!, this.search, value, trace);
  }

  /** Labelled observation; `values` in the family's declared label order. */
  observeWith(values: readonly string[], value: number, trace?: ExemplarTrace): void {
    record(this.last.get(values, this.lookup), this.search, value, trace);
  }

  snapshot(): HistogramSnapshot {
    return {
      def: this.def as HistogramSnapshot['def'],
      name: this.name,
      bounds: this.bounds,
      points: this.single !== undefined ? [this.single] : this.allSeries(),
    };
  }
}

function record(s: HistogramSeries, bounds: Float64Array, value: number, trace: ExemplarTrace | undefined): void {
  storeChanges.count++;
  // The first bound >= value (`le` is inclusive), scanned from the smallest: most observations
  // (latencies of milliseconds, small bodies) land in the first buckets, so a scan stops after a
  // comparison or two where a binary search always takes log2(buckets) unpredictable branches.
  // Written as "not <=" so that NaN, as before, goes past every bound to +Inf.
  const n = bounds.length;
  let bucket = 0;
  while (bucket < n && !(value <= bounds[bucket]!)) bucket++;
  s.counts[bucket] += 1;
  s.sum += value;
  s.count++;
  // The bucket the value falls in: an exemplar's value must lie within its bucket's range.
  if (trace !== undefined) (s.exemplars ??= new Array<Exemplar | undefined>(s.counts.length).fill(undefined))[bucket] = { labels: trace.labels, value, timestamp: trace.timestamp, outputCache: undefined };
}
