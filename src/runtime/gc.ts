import { constants, PerformanceObserver, type PerformanceObserverEntryList } from 'node:perf_hooks';
import { GC_BUCKETS, RUNTIME } from '../../views/runtime.js';
import { safe } from '../contain.js';
import type { FamilySnapshot, HistogramPoint } from '../store/snapshot.js';

/** prom-client's `kind` label values. */
const KINDS = new Map<number, string>([
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

/** A GC entry's kind, typed in Node's API but not in its type definitions for Node 20. */
interface GcEntry {
  readonly detail?: { readonly kind?: number } | null;
}

interface KindSeries extends HistogramPoint {
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** The first bucket whose upper bound holds `value`; `+Inf` (index `GC_BUCKETS.length`) otherwise. */
function bucketOf(value: number): number {
  let i = 0;
  while (i < GC_BUCKETS.length && value > GC_BUCKETS[i]!) i++;
  return i;
}

export interface GcObserver {
  collect(): FamilySnapshot[];
  stop(): void;
}

/** Every GC V8 reports, by kind, in seconds. */
export function startGcObserver(): GcObserver {
  const byKind = new Map<string, KindSeries>();
  // Node delivers GC entries in batches: every entry counts (prom-client reads only the first of each batch).
  const observer = new PerformanceObserver(
    safe('runtime gc observer', (list: PerformanceObserverEntryList) => {
      for (const entry of list.getEntries()) {
        const kind = KINDS.get((entry as GcEntry).detail?.kind ?? -1);
        if (kind === undefined) continue;
        let series = byKind.get(kind);
        if (series === undefined) byKind.set(kind, (series = { labels: [kind], counts: new Float64Array(GC_BUCKETS.length + 1), sum: 0, count: 0 }));
        const seconds = entry.duration / 1000;
        series.counts[bucketOf(seconds)]! += 1;
        series.sum += seconds;
        series.count += 1;
      }
    }),
  );
  observer.observe({ entryTypes: ['gc'] });
  return {
    collect: () => [{ def: RUNTIME.gcDuration, name: RUNTIME.gcDuration.name, bounds: GC_BUCKETS, points: [...byKind.values()] } as FamilySnapshot],
    stop: () => observer.disconnect(),
  };
}
