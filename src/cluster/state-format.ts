import type { FamilySnapshot, HistogramPoint, HistogramSnapshot, Point, ValuePoint } from '../store/snapshot.js';

/**
 * The serialized state of one process, or of the processes that have exited (the retired
 * state): every family by catalog name, its series as label values and numbers. Label values are
 * written once each, in a string table that series refer to by index: the same route templates
 * and methods recur across families and series, and arrays of numbers are what JSON writes and
 * parses fastest (a 24k-series state encodes in a few milliseconds).
 */
export interface EncodedState {
  readonly version: 1;
  /** Label values; series refer to them by index. */
  readonly strings: string[];
  readonly families: EncodedFamily[];
  /** Retired state only: the ids of the process files already folded into it. */
  readonly folded?: string[];
}

export interface EncodedFamily {
  /** Catalog name (the definition the reader looks up). */
  readonly def: string;
  /** Exposed name (namespace applied where the family takes it). */
  readonly name: string;
  /** Per series, one string index per label of the definition. */
  readonly labels: number[];
  /** Per series: its value (counter, gauge), or its bucket counts (not cumulative), sum and count (histogram). */
  readonly values: number[];
  /** Histograms: the finite bucket bounds. */
  readonly bounds?: readonly number[];
  /** The numbers of the `otel_metric_overflow="true"` series, which has label names of its own. */
  readonly overflow?: number[];
}

/** A point that stands for the series beyond the per-family limit (the store's overflow series). */
export function isOverflowPoint(point: Point): boolean {
  return (point as { labelNames?: readonly string[] }).labelNames !== undefined;
}

/** What an encoder keeps of one family from one encoding to the next. */
interface FamilyCache {
  /** Each series' label values array as last seen (the store's series keep theirs for life). */
  readonly seen: Array<readonly string[]>;
  /** Their string indexes, one per label, in series order. */
  readonly labels: number[];
  /** `labels` as JSON, while it holds. */
  json: string | undefined;
}

/**
 * Encodes one process's collected families again and again. Label values are what makes a state
 * large, and they hardly ever change: a store series keeps its label values array for life and
 * new series come last. So the string table only grows, and each family keeps its series' string
 * indexes and their JSON text from the last encoding; a series whose labels array is still the
 * same object costs one comparison. Only the numbers are written anew each time.
 */
export class StateEncoder {
  private readonly strings: string[] = [];
  private readonly indexes = new Map<string, number>();
  private stringsJson = '[]';
  private stringsWritten = 0;
  private readonly families = new Map<string, FamilyCache>();

  /** The state's text (families read in one synchronous pass, so each series is consistent). */
  encode(snapshots: Iterable<FamilySnapshot>, folded?: readonly string[]): string {
    const parts: string[] = [];
    for (const snapshot of snapshots) parts.push(this.family(snapshot));
    if (this.strings.length !== this.stringsWritten) {
      this.stringsJson = JSON.stringify(this.strings);
      this.stringsWritten = this.strings.length;
    }
    const foldedJson = folded ? `,"folded":${JSON.stringify(folded)}` : '';
    return `{"version":1,"strings":${this.stringsJson},"families":[${parts.join(',')}]${foldedJson}}`;
  }

  private family(snapshot: FamilySnapshot): string {
    let cache = this.families.get(snapshot.name);
    if (cache === undefined) {
      cache = { seen: [], labels: [], json: undefined };
      this.families.set(snapshot.name, cache);
    }
    const arity = snapshot.def.labels.length;
    const histogram = snapshot.def.type === 'histogram';
    const values: number[] = [];
    let overflow: number[] | undefined;
    let n = 0;
    for (const point of snapshot.points as Iterable<ValuePoint | HistogramPoint>) {
      let into = values;
      if (isOverflowPoint(point)) {
        overflow = [];
        into = overflow;
      } else {
        if (cache.seen[n] !== point.labels) this.setLabels(cache, n, arity, point.labels);
        n++;
      }
      if (histogram) pushHistogram(into, point as HistogramPoint);
      else into.push((point as ValuePoint).value);
    }
    if (cache.seen.length !== n) {
      cache.seen.length = n;
      cache.labels.length = n * arity;
      cache.json = undefined;
    }
    cache.json ??= JSON.stringify(cache.labels);
    const bounds = histogram ? `,"bounds":${JSON.stringify((snapshot as HistogramSnapshot).bounds)}` : '';
    const overflowJson = overflow ? `,"overflow":${JSON.stringify(overflow)}` : '';
    return `{"def":${JSON.stringify(snapshot.def.name)},"name":${JSON.stringify(snapshot.name)},"labels":${cache.json},"values":${JSON.stringify(values)}${bounds}${overflowJson}}`;
  }

  private setLabels(cache: FamilyCache, n: number, arity: number, labels: readonly string[]): void {
    cache.seen[n] = labels;
    cache.json = undefined;
    for (let j = 0; j < arity; j++) {
      const value = labels[j] ?? '';
      let index = this.indexes.get(value);
      if (index === undefined) {
        index = this.strings.length;
        this.strings.push(value);
        this.indexes.set(value, index);
      }
      cache.labels[n * arity + j] = index;
    }
  }
}

function pushHistogram(into: number[], point: HistogramPoint): void {
  const { counts } = point;
  for (let i = 0; i < counts.length; i++) into.push(counts[i]!);
  into.push(point.sum, point.count);
}

/** Encodes collected families once (see StateEncoder). */
export function encodeState(snapshots: Iterable<FamilySnapshot>, folded?: readonly string[]): string {
  return new StateEncoder().encode(snapshots, folded);
}

/** Parses an encoded state; `undefined` for text that is not one (a file of another version, or damaged). */
export function decodeState(text: string): EncodedState | undefined {
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isState(state) ? state : undefined;
}

function isState(value: unknown): value is EncodedState {
  const state = value as Partial<EncodedState> | null;
  return (
    typeof state === 'object' &&
    state !== null &&
    state.version === 1 &&
    Array.isArray(state.strings) &&
    Array.isArray(state.families) &&
    state.families.every((f) => typeof f?.def === 'string' && typeof f.name === 'string' && Array.isArray(f.labels) && Array.isArray(f.values)) &&
    (state.folded === undefined || Array.isArray(state.folded))
  );
}
