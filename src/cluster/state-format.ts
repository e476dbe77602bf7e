import { randomBytes } from 'node:crypto';
import type { FamilySnapshot, HistogramPoint, HistogramSnapshot, Point, ValuePoint } from '../store/snapshot.js';
import { extraLabelsOf, type FamilyDef } from '../../views/index.js';
import { catalogDef } from './catalog.js';

/**
 * The serialized state of one process, or of the processes that have exited (the retired
 * state): every family by catalog name, its series as label values and numbers.
 *
 * A file is a small JSON header, then two binary arrays: `ODM3`, the header's byte length
 * (uint32 LE), the header (the string table, and per family its names and how many label indexes
 * and numbers it has), zero padding to a multiple of 8, every family's numbers as float64, then
 * every family's label indexes as uint32. Label values are written once each, in the string
 * table; series refer to them by index. Nothing per series is printed or parsed: a 24k-series
 * state reads as two views over the file's bytes. The binary parts are in the machine's byte
 * order: every process sharing a state directory runs on one host.
 */
export interface EncodedState {
  /** Names the string table: the same table id means the same index for the same string (a table only grows). */
  readonly table: string;
  /** Label values; series refer to them by index. */
  readonly strings: readonly string[];
  readonly families: readonly EncodedFamily[];
  /** Retired state only: the ids of the process files already folded into it. */
  readonly folded?: readonly string[];
}

export interface EncodedFamily {
  /** Catalog name (the definition the reader looks up). */
  readonly def: string;
  /** Exposed name (namespace applied where the family takes it). */
  readonly name: string;
  /** Per series, one string index per label of the definition. */
  readonly labels: ArrayLike<number>;
  /** Per series: its value (counter, gauge), or its bucket counts (not cumulative), sum and count (histogram). */
  readonly values: ArrayLike<number>;
  /** Histograms: the finite bucket bounds. */
  readonly bounds?: readonly number[];
  /** The app's extra label names after the definition's (`configure()`), when it has any. */
  readonly extra?: readonly string[];
  /** The numbers of the `otel_metric_overflow="true"` series, which has label names of its own. */
  readonly overflow?: ArrayLike<number>;
}

/** The header as written: each family's label indexes and numbers are counted there and stored after it. */
interface Header {
  readonly version: 3;
  readonly table: string;
  readonly strings: readonly string[];
  readonly families: ReadonlyArray<Omit<EncodedFamily, 'labels' | 'values' | 'overflow'> & { readonly labels: number; readonly values: number; readonly overflow?: number }>;
  readonly folded?: readonly string[];
}

const MAGIC = Buffer.from('ODM3');
const PREFIX_BYTES = 8;

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
  /** `labels` as uint32 bytes, while it holds. */
  bytes: Buffer | undefined;
}

/**
 * Encodes one process's collected families again and again. Label values hardly ever change: a
 * store series keeps its label values array for life and new series come last. So the string
 * table only grows, and each family keeps its series' string indexes and their bytes from the
 * last encoding; a series whose labels array is still the same object costs one comparison. The
 * numbers are copied into one reused float64 buffer.
 */
export class StateEncoder {
  /** A new id per encoder: its table's indexes mean nothing to another encoder's. */
  private readonly table = randomBytes(8).toString('hex');
  private readonly strings: string[] = [];
  private readonly indexes = new Map<string, number>();
  private stringsJson = '[]';
  private stringsWritten = 0;
  private readonly families = new Map<string, FamilyCache>();
  private numbers = new Float64Array(1024);
  private used = 0;

  /**
   * The state file's bytes, in parts to be written one after another (the numbers part is this
   * encoder's own buffer, valid until its next call). Families are read in one synchronous pass,
   * so each series is consistent.
   */
  encode(snapshots: Iterable<FamilySnapshot>, folded?: readonly string[]): Buffer[] {
    this.used = 0;
    const families: string[] = [];
    const labels: Buffer[] = [];
    for (const snapshot of snapshots) {
      const { json, bytes } = this.family(snapshot);
      families.push(json);
      labels.push(bytes);
    }
    if (this.strings.length !== this.stringsWritten) {
      this.stringsJson = JSON.stringify(this.strings);
      this.stringsWritten = this.strings.length;
    }
    const foldedJson = folded ? `,"folded":${JSON.stringify(folded)}` : '';
    const header = Buffer.from(`{"version":3,"table":"${this.table}","strings":${this.stringsJson},"families":[${families.join(',')}]${foldedJson}}`);
    const prefix = Buffer.alloc(PREFIX_BYTES);
    MAGIC.copy(prefix);
    prefix.writeUInt32LE(header.length, 4);
    const padding = Buffer.alloc((8 - ((PREFIX_BYTES + header.length) % 8)) % 8);
    return [prefix, header, padding, Buffer.from(this.numbers.buffer, 0, this.used * 8), ...labels];
  }

  private family(snapshot: FamilySnapshot): { json: string; bytes: Buffer } {
    let cache = this.families.get(snapshot.name);
    if (cache === undefined) {
      cache = { seen: [], labels: [], bytes: undefined };
      this.families.set(snapshot.name, cache);
    }
    const arity = snapshot.def.labels.length;
    const histogram = snapshot.def.type === 'histogram';
    const start = this.used;
    let overflow: HistogramPoint | ValuePoint | undefined;
    let n = 0;
    for (const point of snapshot.points as Iterable<ValuePoint | HistogramPoint>) {
      if (isOverflowPoint(point)) {
        overflow = point;
        continue;
      }
      if (cache.seen[n] !== point.labels) this.setLabels(cache, n, arity, point.labels);
      n++;
      this.push(point, histogram);
    }
    const values = this.used - start;
    if (overflow !== undefined) this.push(overflow, histogram);
    if (cache.seen.length !== n) {
      cache.seen.length = n;
      cache.labels.length = n * arity;
      cache.bytes = undefined;
    }
    cache.bytes ??= Buffer.from(Uint32Array.from(cache.labels).buffer);
    const bounds = histogram ? `,"bounds":${JSON.stringify((snapshot as HistogramSnapshot).bounds)}` : '';
    const overflowCount = overflow !== undefined ? `,"overflow":${this.used - start - values}` : '';
    const extra = extraLabelsJson(snapshot.def);
    const json = `{"def":${JSON.stringify(snapshot.def.name)},"name":${JSON.stringify(snapshot.name)},"labels":${cache.labels.length},"values":${values}${bounds}${extra}${overflowCount}}`;
    return { json, bytes: cache.bytes };
  }

  private push(point: ValuePoint | HistogramPoint, histogram: boolean): void {
    if (!histogram) {
      this.reserve(1);
      this.numbers[this.used++] = (point as ValuePoint).value;
      return;
    }
    const { counts, sum, count } = point as HistogramPoint;
    this.reserve(counts.length + 2);
    for (let i = 0; i < counts.length; i++) this.numbers[this.used++] = counts[i]!;
    this.numbers[this.used++] = sum;
    this.numbers[this.used++] = count;
  }

  private reserve(n: number): void {
    if (this.used + n <= this.numbers.length) return;
    const grown = new Float64Array(Math.max(this.numbers.length * 2, this.used + n));
    grown.set(this.numbers.subarray(0, this.used));
    this.numbers = grown;
  }

  private setLabels(cache: FamilyCache, n: number, arity: number, labels: readonly string[]): void {
    cache.seen[n] = labels;
    cache.bytes = undefined;
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

/** Encodes collected families once (see StateEncoder), as one buffer. */
export function encodeState(snapshots: Iterable<FamilySnapshot>, folded?: readonly string[]): Buffer {
  return Buffer.concat(new StateEncoder().encode(snapshots, folded));
}

/** Reads a state file's bytes; `undefined` for bytes that are not one (another version's, or damaged). */
export function decodeState(bytes: Uint8Array): EncodedState | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < PREFIX_BYTES || !buffer.subarray(0, 4).equals(MAGIC)) return undefined;
  const headerBytes = buffer.readUInt32LE(4);
  const numbersAt = PREFIX_BYTES + headerBytes + ((8 - ((PREFIX_BYTES + headerBytes) % 8)) % 8);
  if (numbersAt > buffer.length) return undefined;
  let header: Header;
  try {
    header = JSON.parse(buffer.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + headerBytes)) as Header;
  } catch {
    return undefined;
  }
  if (!isHeader(header)) return undefined;
  let numberCount = 0;
  let labelCount = 0;
  for (const family of header.families) {
    numberCount += family.values + (family.overflow ?? 0);
    labelCount += family.labels;
  }
  const labelsAt = numbersAt + numberCount * 8;
  if (labelsAt + labelCount * 4 !== buffer.length) return undefined;
  const numbers = view(buffer, numbersAt, numberCount, Float64Array);
  const indexes = view(buffer, labelsAt, labelCount, Uint32Array);
  let n = 0;
  let l = 0;
  const families: EncodedFamily[] = [];
  for (const { labels: labelsLength, values: valuesLength, overflow: overflowLength, ...family } of header.families) {
    const labels = indexes.subarray(l, (l += labelsLength));
    const values = numbers.subarray(n, (n += valuesLength));
    const overflow = overflowLength !== undefined ? numbers.subarray(n, (n += overflowLength)) : undefined;
    families.push({ ...family, labels, values, ...(overflow ? { overflow } : {}) });
  }
  return { table: header.table, strings: header.strings, families, ...(header.folded ? { folded: header.folded } : {}) };
}

/** `length` elements from byte `at`: a view when they are aligned in memory, else a copy. */
function view<T extends Float64Array | Uint32Array>(buffer: Buffer, at: number, length: number, type: { new (b: ArrayBufferLike, o?: number, l?: number): T; BYTES_PER_ELEMENT: number }): T {
  const offset = buffer.byteOffset + at;
  if (offset % type.BYTES_PER_ELEMENT === 0) return new type(buffer.buffer, offset, length);
  return new type(buffer.buffer.slice(offset, offset + length * type.BYTES_PER_ELEMENT));
}

const count = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) >= 0;

function isHeader(value: unknown): value is Header {
  const header = value as Partial<Header> | null;
  return (
    typeof header === 'object' &&
    header !== null &&
    header.version === 3 &&
    typeof header.table === 'string' &&
    Array.isArray(header.strings) &&
    Array.isArray(header.families) &&
    header.families.every(
      (f) =>
        typeof f?.def === 'string' &&
        typeof f.name === 'string' &&
        count(f.labels) &&
        count(f.values) &&
        (f.overflow === undefined || count(f.overflow)) &&
        (f.extra === undefined || (Array.isArray(f.extra) && f.extra.every((name: unknown) => typeof name === 'string'))),
    ) &&
    (header.folded === undefined || Array.isArray(header.folded))
  );
}

/** `,"extra":[...]` for a family with the app's extra labels, else nothing. */
function extraLabelsJson(def: FamilyDef): string {
  const catalog = catalogDef(def.name);
  const extra = catalog !== undefined ? extraLabelsOf(def, catalog) : [];
  return extra.length > 0 ? `,"extra":${JSON.stringify(extra)}` : '';
}
