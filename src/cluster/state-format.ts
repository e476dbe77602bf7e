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

/** Encodes collected families (read in one synchronous pass, so each series is consistent). */
export function encodeState(snapshots: Iterable<FamilySnapshot>, folded?: readonly string[]): string {
  const strings: string[] = [];
  const indexes = new Map<string, number>();
  const families: EncodedFamily[] = [];
  for (const snapshot of snapshots) {
    const labels: number[] = [];
    const values: number[] = [];
    let overflow: number[] | undefined;
    const histogram = snapshot.def.type === 'histogram';
    for (const point of snapshot.points as Iterable<ValuePoint | HistogramPoint>) {
      let into = values;
      if (isOverflowPoint(point)) {
        overflow = [];
        into = overflow;
      } else {
        for (const value of point.labels) {
          let index = indexes.get(value);
          if (index === undefined) {
            index = strings.length;
            strings.push(value);
            indexes.set(value, index);
          }
          labels.push(index);
        }
      }
      if (histogram) pushHistogram(into, point as HistogramPoint);
      else into.push((point as ValuePoint).value);
    }
    families.push({
      def: snapshot.def.name,
      name: snapshot.name,
      labels,
      values,
      ...(histogram ? { bounds: (snapshot as HistogramSnapshot).bounds } : {}),
      ...(overflow ? { overflow } : {}),
    });
  }
  const state: EncodedState = { version: 1, strings, families, ...(folded ? { folded: [...folded] } : {}) };
  return JSON.stringify(state);
}

function pushHistogram(into: number[], point: HistogramPoint): void {
  const { counts } = point;
  for (let i = 0; i < counts.length; i++) into.push(counts[i]!);
  into.push(point.sum, point.count);
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
