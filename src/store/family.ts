import type { FamilyDef } from '../../views/index.js';
import { familyHeader } from '../exposition/format.js';
import { labelText, OVERFLOW_LABELS, seriesKey, type LabelText } from './labels.js';

/** What a family needs from its registry. */
export interface FamilyOptions {
  /** Exposed name, namespace applied. */
  readonly name: string;
  readonly maxSeries: number;
  /** Called once per family the first time its series limit is hit. */
  readonly onOverflow: (name: string, limit: number) => void;
}

/**
 * Shared series bookkeeping of one family: one series per label-value tuple, created on first
 * use with its label text precomputed; past `maxSeries` new tuples fold into one
 * `otel_metric_overflow="true"` series (E12) instead of growing without bound.
 */
export abstract class Family<S extends { readonly labels: LabelText }> {
  readonly name: string;
  readonly header: string;
  protected readonly series = new Map<string, S>();
  private overflow: (S) | undefined;

  constructor(
    readonly def: FamilyDef,
    private readonly options: FamilyOptions,
  ) {
    this.name = options.name;
    this.header = familyHeader(options.name, def.help, def.type);
  }

  protected abstract create(labels: LabelText): S;

  /** The series for label values given in declared order. */
  protected find(values: readonly string[]): S {
    const key = seriesKey(values);
    const found = this.series.get(key);
    if (found !== undefined) return found;
    if (this.series.size >= this.options.maxSeries) return this.overflowSeries();
    const created = this.create(labelText(this.def.labels, values));
    this.series.set(key, created);
    return created;
  }

  private overflowSeries(): S {
    if (this.overflow === undefined) {
      this.options.onOverflow(this.name, this.options.maxSeries);
      this.overflow = this.create(labelText(OVERFLOW_LABELS.names, OVERFLOW_LABELS.values));
    }
    return this.overflow;
  }

  /** Every series in creation order, the overflow series last. */
  protected *allSeries(): Iterable<S> {
    yield* this.series.values();
    if (this.overflow !== undefined) yield this.overflow;
  }

  /**
   * Appends this family's exposition text to `out`, pausing (yield) after each series so that
   * the registry can hand the event loop back to the app during a large scrape.
   */
  abstract write(out: string[]): Generator<void, void, undefined>;
}
