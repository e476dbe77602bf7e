import type { FamilySnapshot, HistogramSnapshot } from '../store/snapshot.js';
import type { FamilyDef } from '../../views/index.js';
import { catalogOrder } from './catalog.js';
import type { MergedHistogramPoint, MergedValuePoint } from './merge.js';

/** Series the guard handles per step (see runSliced). */
const SERIES_PER_STEP = 128;

interface ExposedValue {
  readonly labels: readonly string[];
  readonly labelNames?: readonly string[];
  value: number;
  /** The text writer's per-series slot: merged series keep their rendered labels from scrape to scrape. */
  outputCache: unknown;
}

interface ExposedHistogram {
  readonly labels: readonly string[];
  readonly labelNames?: readonly string[];
  readonly counts: Float64Array;
  sum: number;
  count: number;
  outputCache: unknown;
}

interface ExposedFamily {
  readonly def: FamilyDef;
  readonly name: string;
  readonly bounds: readonly number[] | undefined;
  /** By series key; the overflow series under OVERFLOW. */
  readonly series: Map<string | undefined, ExposedValue | ExposedHistogram>;
}

/**
 * What one serving process has exposed of every counter and histogram, so that it never exposes
 * less: a merge can come out lower than the last one (a state file that could not be read this
 * time, the work lost when a process is killed before it published), and a counter that goes down
 * reads as a reset. A counter series keeps the highest value exposed; a histogram series its
 * state with the highest count (its buckets, sum and count move together). A series or family
 * missing from a merge is exposed as last seen. Gauges pass through.
 */
export class MonotonicGuard {
  private readonly families = new Map<string, ExposedFamily>();

  /** Applies the guard to one merge's families (step by step); returns what to expose. */
  *apply(merged: readonly FamilySnapshot[]): Generator<void, FamilySnapshot[], undefined> {
    const out: FamilySnapshot[] = [];
    for (const snapshot of merged) {
      if (snapshot.def.type === 'gauge') {
        out.push(snapshot);
        continue;
      }
      const family = this.familyFor(snapshot);
      let n = 0;
      for (const point of snapshot.points as Iterable<MergedValuePoint | MergedHistogramPoint>) {
        const exposed = family.series.get(point.key);
        if (exposed === undefined) family.series.set(point.key, copy(point));
        else if ('counts' in point) raiseHistogram(exposed as ExposedHistogram, point);
        else if (point.value > (exposed as ExposedValue).value) (exposed as ExposedValue).value = point.value;
        if (++n % SERIES_PER_STEP === 0) yield;
      }
    }
    for (const family of this.families.values()) out.push(exposedSnapshot(family));
    return out.sort((a, b) => catalogOrder(a.def) - catalogOrder(b.def));
  }

  private familyFor(snapshot: FamilySnapshot): ExposedFamily {
    let family = this.families.get(snapshot.name);
    if (family === undefined) {
      const bounds = snapshot.def.type === 'histogram' ? (snapshot as HistogramSnapshot).bounds : undefined;
      family = { def: snapshot.def, name: snapshot.name, bounds, series: new Map() };
      this.families.set(snapshot.name, family);
    }
    return family;
  }
}

function copy(point: MergedValuePoint | MergedHistogramPoint): ExposedValue | ExposedHistogram {
  const names = (point as { labelNames?: readonly string[] }).labelNames;
  const base = { labels: point.labels, ...(names ? { labelNames: names } : {}), outputCache: undefined };
  return 'counts' in point ? { ...base, counts: Float64Array.from(point.counts), sum: point.sum, count: point.count } : { ...base, value: point.value };
}

function raiseHistogram(exposed: ExposedHistogram, point: MergedHistogramPoint): void {
  if (point.count <= exposed.count || point.counts.length !== exposed.counts.length) return;
  exposed.counts.set(point.counts);
  exposed.sum = point.sum;
  exposed.count = point.count;
}

function exposedSnapshot(family: ExposedFamily): FamilySnapshot {
  const points = [...family.series.values()];
  // The store exposes its overflow series last; so does the merge, wherever it was first seen.
  const overflow = family.series.get(undefined);
  if (overflow !== undefined) points.push(...points.splice(points.indexOf(overflow), 1));
  return (family.bounds ? { def: family.def, name: family.name, bounds: family.bounds, points } : { def: family.def, name: family.name, points }) as FamilySnapshot;
}
