import { OVERFLOW_LABELS } from '../store/family.js';
import type { FamilySnapshot } from '../store/snapshot.js';
import { deriveFamily, type FamilyDef } from '../../views/index.js';
import { catalogDef, catalogOrder } from './catalog.js';
import type { EncodedFamily, EncodedState } from './state-format.js';

/** Series a merge step handles before it lets the caller decide whether to give the event loop back. */
const SERIES_PER_STEP = 64;

/**
 * A merged series. It is also the point the text writer reads (labels, the exposed numbers and
 * the writer's `outputCache`, so that its labels are rendered once in its life), and it carries
 * this round's accumulator beside what was exposed.
 */
interface ValueRow {
  readonly labels: readonly string[];
  readonly labelNames?: readonly string[];
  /** Exposed: a counter's highest merged value so far; a gauge's value by its rule this round. */
  value: number;
  outputCache: unknown;
  /** The round `acc` and `n` belong to. */
  round: number;
  acc: number;
  /** States that contributed this round (for `average`, `first`, `max`, `min`). */
  n: number;
}

interface HistogramRow {
  readonly labels: readonly string[];
  readonly labelNames?: readonly string[];
  /** Exposed: the merged state with the highest count so far (buckets, sum and count move together). */
  readonly counts: Float64Array;
  sum: number;
  count: number;
  outputCache: unknown;
  round: number;
  readonly accCounts: Float64Array;
  accSum: number;
  accCount: number;
}

type Row = ValueRow | HistogramRow;

interface TableFamily {
  readonly def: FamilyDef;
  readonly name: string;
  readonly bounds: readonly number[] | undefined;
  /** Rows by label values joined with NUL (label values with a NUL in them are not told apart). */
  readonly rows: Map<string, Row>;
  overflow: Row | undefined;
  /** The last round a state had this family. */
  round: number;
}

/** What a source (one process's file, under one string table) resolved its series to last time. */
interface SourceFamily {
  readonly labels: number[];
  readonly rows: Row[];
}

interface Source {
  round: number;
  readonly families: Map<string, SourceFamily>;
}

export interface MergeTableOptions {
  /** Told of a family whose buckets or labels differ from those it was first seen with (that state's series of it are skipped). */
  mismatch?: (name: string) => void;
  /** A family's definition by catalog name (default: the catalog's). */
  lookup?: (name: string) => FamilyDef | undefined;
}

/**
 * Merges states round after round, by each family's rule (`def.merge`): counters and histograms
 * add up per label set (buckets, sums and counts alike) over every state of the round; gauges
 * combine by their rule over the states of live processes only (an exited process's gauges say
 * nothing about now): `sum`, `max`, `min`, `average` (of the states that have the series),
 * `first` (the first live state of the round that has it: add them oldest first). `omit`
 * families are left out, as prom-client's aggregator leaves them out.
 *
 * The table outlives its rounds, and so it is also the guard that no counter goes down: a round
 * can come out lower than the last (a state that could not be read this time, what a process
 * killed before it published had counted), and a counter that goes down reads as a reset. A
 * counter series exposes the highest value any round gave it, a histogram series the round with
 * the highest count, and a series or family missing from a round stays as last exposed.
 *
 * Rows persist, so a source seen again (the same process under the same string table) resolves
 * each series it had by comparing its label indexes with last time's: no key is built.
 */
export class MergeTable {
  private round = 0;
  private readonly families = new Map<string, TableFamily>();
  private readonly sources = new Map<string, Source>();
  private readonly mismatch: (name: string) => void;
  private readonly lookup: (name: string) => FamilyDef | undefined;

  constructor(options: MergeTableOptions = {}) {
    this.mismatch = options.mismatch ?? (() => {});
    this.lookup = options.lookup ?? catalogDef;
  }

  /** Starts a round: the accumulators start again from nothing. */
  begin(): void {
    this.round++;
  }

  /**
   * Adds one state to this round, step by step (see SERIES_PER_STEP). `live`: the state of a
   * running process, whose gauges count. `source`: a name for where it comes from, to resolve its
   * series as last time if it comes again.
   */
  *add(state: EncodedState, live: boolean, source?: string): Generator<void, void, undefined> {
    const cache = source !== undefined ? this.source(`${source}\u0000${state.table}`) : undefined;
    for (const encoded of state.families) {
      const def = this.definition(encoded);
      if (def === undefined || def.merge === 'omit' || (def.type === 'gauge' && !live)) continue;
      const family = this.familyFor(def, encoded);
      if (family === undefined) continue;
      const width = def.type === 'histogram' ? family.bounds!.length + 3 : 1;
      const arity = def.labels.length;
      const count = encoded.values.length / width;
      if (!Number.isInteger(count) || encoded.labels.length !== count * arity) continue;
      family.round = this.round;
      let known = cache?.families.get(family.name);
      if (cache !== undefined && known === undefined) {
        known = { labels: [], rows: [] };
        cache.families.set(family.name, known);
      }
      for (let i = 0; i < count; i++) {
        let row = known?.rows[i];
        if (row === undefined || !sameIndexes(known!.labels, encoded.labels, i * arity, arity)) {
          row = this.rowFor(family, state.strings, encoded.labels, i * arity, arity);
          if (known !== undefined) {
            known.rows[i] = row;
            for (let j = 0; j < arity; j++) known.labels[i * arity + j] = encoded.labels[i * arity + j]!;
          }
        }
        this.combine(def, row, encoded.values, i * width);
        if (i % SERIES_PER_STEP === SERIES_PER_STEP - 1) yield;
      }
      if (known !== undefined && known.rows.length > count) {
        known.rows.length = count;
        known.labels.length = count * arity;
      }
      if (encoded.overflow !== undefined && encoded.overflow.length === width) {
        family.overflow ??= Object.assign(newRow(def, family.bounds, OVERFLOW_LABELS.values), { labelNames: OVERFLOW_LABELS.names });
        this.combine(def, family.overflow, encoded.overflow, 0);
      }
      yield;
    }
  }

  /**
   * Ends the round: what to expose, in catalog order. Counters and histograms rise to this
   * round's values where those are higher; gauges take their rule's value over this round's states
   * and only the series some state of this round had. Sources not seen this round are forgotten.
   */
  *finish(): Generator<void, FamilySnapshot[], undefined> {
    const out: FamilySnapshot[] = [];
    const families = [...this.families.values()].sort((a, b) => catalogOrder(a.def) - catalogOrder(b.def));
    for (const family of families) {
      const gauge = family.def.type === 'gauge';
      if (gauge && family.round !== this.round) continue;
      const points: Row[] = [];
      let n = 0;
      // A gauge row no state had this round stays (a source may resolve to it again), unexposed.
      for (const row of family.rows.values()) {
        if (this.expose(family.def, row)) points.push(row);
        if (++n % SERIES_PER_STEP === 0) yield;
      }
      if (family.overflow !== undefined && this.expose(family.def, family.overflow)) points.push(family.overflow);
      out.push({ def: family.def, name: family.name, points, ...(family.bounds ? { bounds: family.bounds } : {}) } as FamilySnapshot);
    }
    for (const [name, source] of this.sources) if (source.round !== this.round) this.sources.delete(name);
    return out;
  }

  /** Updates a row's exposed numbers from this round; whether it is exposed. */
  private expose(def: FamilyDef, row: Row): boolean {
    const fresh = row.round === this.round;
    if (def.type === 'histogram') {
      const h = row as HistogramRow;
      if (fresh && h.accCount > h.count) {
        h.counts.set(h.accCounts);
        h.sum = h.accSum;
        h.count = h.accCount;
      }
      return true;
    }
    const v = row as ValueRow;
    if (def.type === 'counter') {
      if (fresh && v.acc > v.value) v.value = v.acc;
      return true;
    }
    if (!fresh) return false;
    v.value = def.merge === 'average' ? v.acc / v.n : v.acc;
    return true;
  }

  private source(name: string): Source {
    let source = this.sources.get(name);
    if (source === undefined) {
      source = { round: this.round, families: new Map() };
      this.sources.set(name, source);
    }
    source.round = this.round;
    return source;
  }

  /** The family's definition, with the extra labels the app gave it in that process (`configure()`). */
  private definition(encoded: EncodedFamily): FamilyDef | undefined {
    const def = this.lookup(encoded.def);
    return def !== undefined && encoded.extra !== undefined ? deriveFamily(def, encoded.extra) : def;
  }

  private familyFor(def: FamilyDef, encoded: EncodedFamily): TableFamily | undefined {
    let family = this.families.get(encoded.name);
    if (family === undefined) {
      if (def.type === 'histogram' && !Array.isArray(encoded.bounds)) return undefined;
      family = { def, name: encoded.name, bounds: encoded.bounds, rows: new Map(), overflow: undefined, round: this.round };
      this.families.set(encoded.name, family);
      return family;
    }
    if (family.def !== def || (def.type === 'histogram' && !sameBounds(family.bounds!, encoded.bounds))) {
      this.mismatch(encoded.name);
      return undefined;
    }
    return family;
  }

  private rowFor(family: TableFamily, strings: readonly string[], indexes: ArrayLike<number>, at: number, arity: number): Row {
    const labels = new Array<string>(arity);
    for (let j = 0; j < arity; j++) labels[j] = strings[indexes[at + j]!] ?? '';
    const key = arity === 1 ? labels[0]! : labels.join('\u0000');
    let row = family.rows.get(key);
    if (row === undefined) {
      row = newRow(family.def, family.bounds, labels);
      family.rows.set(key, row);
    }
    return row;
  }

  /** Adds one state's numbers for a series (at `at` in `values`) into its row's accumulator. */
  private combine(def: FamilyDef, row: Row, values: ArrayLike<number>, at: number): void {
    const fresh = row.round === this.round;
    row.round = this.round;
    if (def.type === 'histogram') {
      const h = row as HistogramRow;
      const buckets = h.accCounts.length;
      if (!fresh) {
        h.accCounts.fill(0);
        h.accSum = 0;
        h.accCount = 0;
      }
      for (let b = 0; b < buckets; b++) h.accCounts[b] += values[at + b]!;
      h.accSum += values[at + buckets]!;
      h.accCount += values[at + buckets + 1]!;
      return;
    }
    const v = row as ValueRow;
    if (!fresh) {
      v.acc = 0;
      v.n = 0;
    }
    const x = values[at]!;
    switch (def.merge) {
      case 'max':
        v.acc = v.n === 0 ? x : Math.max(v.acc, x);
        break;
      case 'min':
        v.acc = v.n === 0 ? x : Math.min(v.acc, x);
        break;
      case 'first':
        if (v.n === 0) v.acc = x;
        break;
      default:
        // sum, and average (divided when exposed)
        v.acc += x;
    }
    v.n++;
  }
}

function sameIndexes(known: readonly number[], indexes: ArrayLike<number>, at: number, arity: number): boolean {
  for (let j = 0; j < arity; j++) if (known[at + j] !== indexes[at + j]) return false;
  return true;
}

function sameBounds(a: readonly number[], b: readonly number[] | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

function newRow(def: FamilyDef, bounds: readonly number[] | undefined, labels: readonly string[]): Row {
  if (def.type !== 'histogram') return { labels, value: 0, outputCache: undefined, round: 0, acc: 0, n: 0 };
  const buckets = bounds!.length + 1;
  return { labels, counts: new Float64Array(buckets), sum: 0, count: 0, outputCache: undefined, round: 0, accCounts: new Float64Array(buckets), accSum: 0, accCount: 0 };
}
