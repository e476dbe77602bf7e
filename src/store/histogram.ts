import type { FamilyDef } from '../../views/index.js';
import { formatFloat } from '../exposition/format.js';
import { Family, type FamilyOptions } from './family.js';
import { labelText, type LabelText } from './labels.js';

interface HistogramSeries {
  readonly labels: LabelText;
  /** Per-bucket (not cumulative) counts; the last slot is `+Inf`. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** An explicit-bucket histogram family; `le` texts are formatted once, at construction. */
export class Histogram extends Family<HistogramSeries> {
  private readonly leTexts: readonly string[];
  /** The unlabelled series, present from startup (E8). */
  private readonly single: HistogramSeries | undefined;

  constructor(
    def: FamilyDef,
    options: FamilyOptions,
    readonly bounds: readonly number[],
  ) {
    super(def, options);
    this.leTexts = [...bounds.map(formatFloat), '+Inf'].map((t) => `le="${t}"`);
    this.single = def.labels.length === 0 ? this.create(labelText([], [])) : undefined;
  }

  protected create(labels: LabelText): HistogramSeries {
    return { labels, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
  }

  /** Unlabelled observation. */
  observe(value: number): void {
    record(this.single!, this.bounds, value);
  }

  /** Labelled observation; `values` in the family's declared label order. */
  observeWith(values: readonly string[], value: number): void {
    record(this.find(values), this.bounds, value);
  }

  *write(out: string[]): Generator<void, void, undefined> {
    out.push(this.header);
    const series = this.single !== undefined ? [this.single] : this.allSeries();
    const { name, leTexts } = this;
    for (const s of series) {
      const { beforeLe, afterLe, braces } = s.labels;
      let cumulative = 0;
      for (let i = 0; i < leTexts.length; i++) {
        cumulative += s.counts[i];
        out.push(`${name}_bucket{${beforeLe}${leTexts[i]}${afterLe}} ${formatFloat(cumulative)}\n`);
      }
      out.push(`${name}_count${braces} ${formatFloat(s.count)}\n${name}_sum${braces} ${formatFloat(s.sum)}\n`);
      yield;
    }
  }
}

function record(s: HistogramSeries, bounds: readonly number[], value: number): void {
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
}
