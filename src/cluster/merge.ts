import { OVERFLOW_LABELS } from '../store/family.js';
import type { FamilySnapshot, HistogramPoint, ValuePoint } from '../store/snapshot.js';
import type { FamilyDef } from '../../views/index.js';
import { catalogDef, catalogOrder } from './catalog.js';
import type { EncodedFamily, EncodedState } from './state-format.js';

/** Series a merge step handles before it lets the caller decide whether to give the event loop back. */
const SERIES_PER_STEP = 64;

/** A merged series of a counter or histogram family, with the key the monotonic guard follows it by. */
export interface KeyedPoint {
  /** Label values joined by NUL, or `undefined` for the overflow series. */
  readonly key: string | undefined;
}

export type MergedValuePoint = ValuePoint & KeyedPoint;
export type MergedHistogramPoint = HistogramPoint & KeyedPoint & { readonly counts: Float64Array };

interface ValueSeries extends KeyedPoint {
  readonly labels: readonly string[];
  readonly labelNames?: readonly string[];
  value: number;
  /** Processes that contributed (for `average`, `first`, `max`, `min`). */
  n: number;
}

interface HistogramSeries extends KeyedPoint {
  readonly labels: readonly string[];
  readonly labelNames?: readonly string[];
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

type Series = ValueSeries | HistogramSeries;

interface MergedFamily {
  readonly def: FamilyDef;
  readonly name: string;
  readonly bounds: readonly number[] | undefined;
  readonly series: Map<string, Series>;
  overflow: Series | undefined;
}

export interface StateMergeOptions {
  /** Told of a family whose buckets differ from those of the state that brought it first (that state's series of it are skipped). */
  mismatch?: (name: string) => void;
  /** A family's definition by catalog name (default: the catalog's). */
  lookup?: (name: string) => FamilyDef | undefined;
}

/**
 * One merge of several states into families, by each family's rule (`def.merge`): counters and
 * histograms add up per label set (buckets, sums and counts alike), over every state; gauges
 * combine by their rule over the states of live processes only (an exited process's gauges say
 * nothing about now): `sum`, `max`, `min`, `average` (of the processes that have the series),
 * `first` (the first live state added that has it: add them oldest first). `omit` families are
 * left out of the merge, as prom-client's aggregator leaves them out.
 */
export class StateMerge {
  private readonly families = new Map<string, MergedFamily>();

  private readonly mismatch: (name: string) => void;
  private readonly lookup: (name: string) => FamilyDef | undefined;

  constructor(options: StateMergeOptions = {}) {
    this.mismatch = options.mismatch ?? (() => {});
    this.lookup = options.lookup ?? catalogDef;
  }

  /** Adds one state, step by step (see SERIES_PER_STEP). `live`: the state of a running process, whose gauges count. */
  *add(state: EncodedState, live: boolean): Generator<void, void, undefined> {
    for (const encoded of state.families) {
      const def = this.lookup(encoded.def);
      if (def === undefined || def.merge === 'omit' || (def.type === 'gauge' && !live)) continue;
      const family = this.familyFor(def, encoded);
      if (family === undefined) continue;
      const width = def.type === 'histogram' ? family.bounds!.length + 3 : 1;
      const arity = def.labels.length;
      const count = encoded.values.length / width;
      if (!Number.isInteger(count) || encoded.labels.length !== count * arity) continue;
      for (let i = 0; i < count; i++) {
        const labels = new Array<string>(arity);
        for (let j = 0; j < arity; j++) labels[j] = state.strings[encoded.labels[i * arity + j]!] ?? '';
        const key = arity === 1 ? labels[0]! : labels.join('\u0000');
        let series = family.series.get(key);
        if (series === undefined) {
          series = newSeries(def, family.bounds, key, labels);
          family.series.set(key, series);
        }
        combine(def, series, encoded.values, i * width);
        if (i % SERIES_PER_STEP === SERIES_PER_STEP - 1) yield;
      }
      if (encoded.overflow !== undefined && encoded.overflow.length === width) {
        family.overflow ??= Object.assign(newSeries(def, family.bounds, undefined, OVERFLOW_LABELS.values), { labelNames: OVERFLOW_LABELS.names });
        combine(def, family.overflow, encoded.overflow, 0);
      }
      yield;
    }
  }

  /** The merged families in catalog order; each point carries its key. */
  snapshots(): FamilySnapshot[] {
    const families = [...this.families.values()].sort((a, b) => catalogOrder(a.def) - catalogOrder(b.def));
    return families.map((family) => {
      const series = [...family.series.values()];
      if (family.overflow !== undefined) series.push(family.overflow);
      const points = family.def.type === 'gauge' ? series.map((s) => gaugePoint(family.def, s as ValueSeries)) : series;
      return { def: family.def, name: family.name, points, ...(family.bounds ? { bounds: family.bounds } : {}) } as FamilySnapshot;
    });
  }

  private familyFor(def: FamilyDef, encoded: EncodedFamily): MergedFamily | undefined {
    let family = this.families.get(encoded.name);
    if (family === undefined) {
      if (def.type === 'histogram' && !Array.isArray(encoded.bounds)) return undefined;
      family = { def, name: encoded.name, bounds: encoded.bounds, series: new Map(), overflow: undefined };
      this.families.set(encoded.name, family);
      return family;
    }
    if (family.def !== def) return undefined;
    if (def.type === 'histogram' && !sameBounds(family.bounds!, encoded.bounds)) {
      this.mismatch(encoded.name);
      return undefined;
    }
    return family;
  }
}

function sameBounds(a: readonly number[], b: readonly number[] | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

function newSeries(def: FamilyDef, bounds: readonly number[] | undefined, key: string | undefined, labels: readonly string[]): Series {
  return def.type === 'histogram'
    ? { key, labels, counts: new Float64Array(bounds!.length + 1), sum: 0, count: 0 }
    : { key, labels, value: 0, n: 0 };
}

/** Adds one process's numbers (at `at` in `values`) into a merged series. */
function combine(def: FamilyDef, series: Series, values: readonly number[], at: number): void {
  if (def.type === 'histogram') {
    const h = series as HistogramSeries;
    const buckets = h.counts.length;
    for (let b = 0; b < buckets; b++) h.counts[b] += values[at + b]!;
    h.sum += values[at + buckets]!;
    h.count += values[at + buckets + 1]!;
    return;
  }
  const s = series as ValueSeries;
  const v = values[at]!;
  switch (def.merge) {
    case 'max':
      s.value = s.n === 0 ? v : Math.max(s.value, v);
      break;
    case 'min':
      s.value = s.n === 0 ? v : Math.min(s.value, v);
      break;
    case 'first':
      if (s.n === 0) s.value = v;
      break;
    default:
      // sum, and average (divided when the point is made)
      s.value += v;
  }
  s.n++;
}

function gaugePoint(def: FamilyDef, s: ValueSeries): ValuePoint {
  const value = def.merge === 'average' ? s.value / s.n : s.value;
  return s.labelNames ? { labels: s.labels, labelNames: s.labelNames, value } as ValuePoint : { labels: s.labels, value };
}
