import type { FamilyDef } from '../../views/index.js';
import type { Point } from './snapshot.js';

/** What a family needs from its registry. */
export interface FamilyOptions {
  /** Exposed name, namespace applied where the family takes it. */
  readonly name: string;
  readonly maxSeries: number;
  /** Called once per family the first time its series limit is hit. */
  readonly onOverflow: (name: string, limit: number) => void;
}

/** The label set that replaces any series beyond the per-family limit (E12, OTel's convention). */
export const OVERFLOW_LABELS = { names: ['otel_metric_overflow'], values: ['true'] } as const;

/** What every series keeps besides its numbers. */
export interface SeriesBase extends Point {
  /** The overflow series' own label names; absent: the family's. */
  readonly labelNames?: readonly string[];
  /**
   * One output's per-series cache (the text writer keeps the series' rendered labels here, so a
   * scrape renders each label set once in the series' life). The store never reads it.
   */
  outputCache: unknown;
}

/** One level of a family's series index: label value -> next level, or -> series at the last label. */
type Level = Map<string, unknown>;

/**
 * Shared series bookkeeping of one family: one series per label-value tuple, created on first
 * use with a copy of its label values (callers reuse their tuples); past `maxSeries` new tuples
 * fold into one `otel_metric_overflow="true"` series (E12) instead of growing without bound.
 * Series are found through one Map level per label: label values are mostly the same string
 * objects request after request (route paths, methods, statuses), whose hashes V8 caches, so a
 * lookup is a few hash probes, about 5x cheaper than building a joined key string per add.
 */
export abstract class Family<S extends SeriesBase> {
  readonly name: string;
  private readonly index: Level = new Map();
  private readonly depth: number;
  /** Every series, in creation order (the exposition order). */
  private readonly created: S[] = [];
  private overflow: S | undefined;

  constructor(
    readonly def: FamilyDef,
    private readonly options: FamilyOptions,
  ) {
    this.name = options.name;
    this.depth = def.labels.length;
  }

  protected abstract create(labels: readonly string[]): S;

  /** The series for label values given in declared order (a missing value counts as ''). */
  protected find(values: readonly string[]): S {
    const last = this.depth - 1;
    let level = this.index;
    for (let i = 0; i < last; i++) {
      const value = values[i] ?? '';
      let next = level.get(value) as Level | undefined;
      if (next === undefined) {
        if (this.created.length >= this.options.maxSeries) return this.overflowSeries();
        next = new Map();
        level.set(value, next);
      }
      level = next;
    }
    const value = values[last] ?? '';
    const found = level.get(value) as S | undefined;
    if (found !== undefined) return found;
    if (this.created.length >= this.options.maxSeries) return this.overflowSeries();
    // Exactly `depth` slots (an array grown by push reserves room for 17), copied from the
    // caller's tuple, which it reuses.
    const labels = new Array<string>(this.depth);
    for (let i = 0; i < this.depth; i++) labels[i] = values[i] ?? '';
    const series = this.create(labels);
    level.set(value, series);
    this.created.push(series);
    return series;
  }

  private overflowSeries(): S {
    if (this.overflow === undefined) {
      this.options.onOverflow(this.name, this.options.maxSeries);
      // The one series with label names of its own: the others do not spend a field on it.
      this.overflow = Object.assign(this.create(OVERFLOW_LABELS.values), { labelNames: OVERFLOW_LABELS.names });
    }
    return this.overflow;
  }

  /** Every series in creation order, the overflow series last: the live series, not copies. */
  protected *allSeries(): Iterable<S> {
    yield* this.created;
    if (this.overflow !== undefined) yield this.overflow;
  }
}
