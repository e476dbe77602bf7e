import type { FamilyDef } from '../../views/index.js';
import { storeChanges } from './counter.js';
import { Family, type FamilyOptions, type SeriesBase } from './family.js';
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

  constructor(
    def: FamilyDef,
    options: FamilyOptions,
    readonly bounds: readonly number[],
  ) {
    super(def, options);
    this.single = def.labels.length === 0 ? this.create([]) : undefined;
  }

  protected create(labels: readonly string[]): HistogramSeries {
    return { labels, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0, exemplars: undefined, outputCache: undefined };
  }

  /** Unlabelled observation; with `trace`, also the exemplar of the bucket it falls in. */
  observe(value: number, trace?: ExemplarTrace): void {
    record(this.single!, this.bounds, value, trace);
  }

  /** Labelled observation; `values` in the family's declared label order. */
  observeWith(values: readonly string[], value: number, trace?: ExemplarTrace): void {
    record(this.find(values), this.bounds, value, trace);
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

function record(s: HistogramSeries, bounds: readonly number[], value: number, trace: ExemplarTrace | undefined): void {
  storeChanges.count++;
  // Binary search for the first bound >= value (`le` is inclusive).
  let lo = 0;
  let hi = bounds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (value <= bounds[mid]!) hi = mid;
    else lo = mid + 1;
  }
  s.counts[lo] += 1;
  s.sum += value;
  s.count++;
  // The bucket the value falls in: an exemplar's value must lie within its bucket's range.
  if (trace !== undefined) (s.exemplars ??= new Array<Exemplar | undefined>(s.counts.length).fill(undefined))[lo] = { labels: trace.labels, value, timestamp: trace.timestamp, outputCache: undefined };
}
