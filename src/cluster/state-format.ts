import { randomBytes } from 'node:crypto';
import type { FamilySnapshot, HistogramPoint, HistogramSnapshot, Point, ValuePoint } from '../store/snapshot.js';

/**
 * The serialized state of one process, or of the processes that have exited (the retired
 * state): every family by catalog name, its series as label values and numbers.
 *
 * A file is a JSON header, then the numbers as raw float64: `ODM2`, the header's byte length
 * (uint32 LE), the header, zero padding to a multiple of 8, the numbers. Label values are written
 * once each in the header's string table, which series refer to by index; the numbers, most of
 * the file, are neither printed nor parsed (a 24k-series state is mostly histogram buckets). The
 * numbers are in the machine's byte order: every process sharing a state directory runs on one host.
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
  readonly labels: readonly number[];
  /** Per series: its value (counter, gauge), or its bucket counts (not cumulative), sum and count (histogram). */
  readonly values: ArrayLike<number>;
  /** Histograms: the finite bucket bounds. */
  readonly bounds?: readonly number[];
  /** The numbers of the `otel_metric_overflow="true"` series, which has label names of its own. */
  readonly overflow?: ArrayLike<number>;
}

/** The header as written: each family's numbers are counted there and stored after it. */
interface Header {
  readonly version: 2;
  readonly table: string;
  readonly strings: readonly string[];
  readonly families: ReadonlyArray<Omit<EncodedFamily, 'values' | 'overflow'> & { readonly values: number; readonly overflow?: number }>;
  readonly folded?: readonly string[];
}

const MAGIC = Buffer.from('ODM2');
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
  /** `labels` as JSON bytes, while it holds. */
  json: Buffer | undefined;
}

/**
 * Encodes one process's collected families again and again. Label values hardly ever change: a
 * store series keeps its label values array for life and new series come last. So the string
 * table only grows, and each family keeps its series' string indexes and their JSON text from the
 * last encoding; a series whose labels array is still the same object costs one comparison. The
 * numbers are copied into one reused float64 buffer.
 */
export class StateEncoder {
  /** A new id per encoder: its table's indexes mean nothing to another encoder's. */
  private readonly table = randomBytes(8).toString('hex');
  private readonly strings: string[] = [];
  private readonly indexes = new Map<string, number>();
  private stringsJson = Buffer.from('[]');
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
    const families: Buffer[] = [];
    for (const snapshot of snapshots) families.push(...this.family(snapshot, families.length === 0 ? '' : ','));
    if (this.strings.length !== this.stringsWritten) {
      this.stringsJson = Buffer.from(JSON.stringify(this.strings));
      this.stringsWritten = this.strings.length;
    }
    const foldedJson = folded ? `,"folded":${JSON.stringify(folded)}` : '';
    const header = [Buffer.from(`{"version":2,"table":"${this.table}","strings":`), this.stringsJson, Buffer.from(',"families":['), ...families, Buffer.from(`]${foldedJson}}`)];
    const headerBytes = header.reduce((n, part) => n + part.length, 0);
    const prefix = Buffer.alloc(PREFIX_BYTES);
    MAGIC.copy(prefix);
    prefix.writeUInt32LE(headerBytes, 4);
    const padding = Buffer.alloc((8 - ((PREFIX_BYTES + headerBytes) % 8)) % 8);
    return [prefix, ...header, padding, Buffer.from(this.numbers.buffer, 0, this.used * 8)];
  }

  private family(snapshot: FamilySnapshot, separator: string): Buffer[] {
    let cache = this.families.get(snapshot.name);
    if (cache === undefined) {
      cache = { seen: [], labels: [], json: undefined };
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
      cache.json = undefined;
    }
    cache.json ??= Buffer.from(JSON.stringify(cache.labels));
    const bounds = histogram ? `,"bounds":${JSON.stringify((snapshot as HistogramSnapshot).bounds)}` : '';
    const overflowCount = overflow !== undefined ? `,"overflow":${this.used - start - values}` : '';
    return [
      Buffer.from(`${separator}{"def":${JSON.stringify(snapshot.def.name)},"name":${JSON.stringify(snapshot.name)},"labels":`),
      cache.json,
      Buffer.from(`,"values":${values}${bounds}${overflowCount}}`),
    ];
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
  if (numbersAt > buffer.length || (buffer.length - numbersAt) % 8 !== 0) return undefined;
  let header: Header;
  try {
    header = JSON.parse(buffer.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + headerBytes)) as Header;
  } catch {
    return undefined;
  }
  if (!isHeader(header)) return undefined;
  const numbers = float64s(buffer, numbersAt);
  let at = 0;
  const families: EncodedFamily[] = [];
  for (const { values: count, overflow: overflowCount, ...family } of header.families) {
    const values = numbers.subarray(at, at + count);
    at += count;
    const overflow = overflowCount !== undefined ? numbers.subarray(at, at + overflowCount) : undefined;
    at += overflowCount ?? 0;
    families.push({ ...family, values, ...(overflow ? { overflow } : {}) });
  }
  if (at !== numbers.length) return undefined;
  return { table: header.table, strings: header.strings, families, ...(header.folded ? { folded: header.folded } : {}) };
}

/** The numbers after `at`: a view when they are aligned in memory, else a copy. */
function float64s(buffer: Buffer, at: number): Float64Array {
  const offset = buffer.byteOffset + at;
  const length = (buffer.length - at) / 8;
  if (offset % 8 === 0) return new Float64Array(buffer.buffer, offset, length);
  return new Float64Array(buffer.buffer.slice(offset, offset + length * 8));
}

function isHeader(value: unknown): value is Header {
  const header = value as Partial<Header> | null;
  return (
    typeof header === 'object' &&
    header !== null &&
    header.version === 2 &&
    typeof header.table === 'string' &&
    Array.isArray(header.strings) &&
    Array.isArray(header.families) &&
    header.families.every(
      (f) =>
        typeof f?.def === 'string' &&
        typeof f.name === 'string' &&
        Array.isArray(f.labels) &&
        Number.isSafeInteger(f.values) &&
        f.values >= 0 &&
        (f.overflow === undefined || (Number.isSafeInteger(f.overflow) && f.overflow >= 0)),
    ) &&
    (header.folded === undefined || Array.isArray(header.folded))
  );
}
