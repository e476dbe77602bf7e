import { ALL_FAMILIES, bucketBounds, deriveFamily, type FamilyDef } from '../../views/index.js';
import { contain } from '../contain.js';
import { onceLogger, type Logger } from '../log.js';
import { Counter } from './counter.js';
import type { FamilyOptions } from './family.js';
import { Histogram } from './histogram.js';
import type { Collector, FamilySnapshot } from './snapshot.js';

type AnyFamily = Counter | Histogram;

export interface RegistryOptions {
  namespace: string;
  latencyBuckets: readonly number[];
  maxSeriesPerMetric: number;
}

/**
 * The django-prometheus counters and histograms, created up front so that every one has HELP/TYPE
 * (and the unlabelled ones their zero samples) from the moment the distribution starts (E8), and
 * the collectors whose families are computed when a collection asks. The catalog's gauges (the
 * migration gauges) are such collected values: their collector always yields them.
 */
export class Registry {
  /** By catalog definition; a reshaped family (`reshape`) keeps its catalog key. */
  private readonly families = new Map<FamilyDef, AnyFamily>();
  private readonly collectors: Array<{ site: string; collector: Collector }> = [];
  private readonly reshaped: Array<() => void> = [];
  private readonly onOverflow: FamilyOptions['onOverflow'];

  constructor(private readonly options: RegistryOptions, log?: Logger) {
    const warnOnce = onceLogger(log);
    this.onOverflow = (name, limit) =>
      warnOnce(name, `${name} reached PROMETHEUS_MAX_SERIES_PER_METRIC=${limit}; further label sets are counted under otel_metric_overflow="true"`);
    for (const def of ALL_FAMILIES) if (def.type !== 'gauge') this.families.set(def, this.create(def));
  }

  counter(def: FamilyDef): Counter {
    return this.get(def, Counter);
  }

  histogram(def: FamilyDef): Histogram {
    return this.get(def, Histogram);
  }

  /**
   * Replaces a family with one that has the app's extra labels and, for a histogram, its own
   * bounds, while it has no samples; `false` (nothing changes) once it has. Holders of families
   * (the recorders) take the new objects from their `onReshape` callbacks.
   */
  reshape(def: FamilyDef, extraLabels: readonly string[], bounds?: readonly number[]): boolean {
    const current = this.families.get(def);
    if (current === undefined) throw new TypeError(`${def.name} is not a counter or histogram family of the catalog`);
    const shaped = deriveFamily(def, extraLabels, bounds);
    if (shaped === current.def) return true;
    if (hasSamples(current.snapshot())) return false;
    this.families.set(def, this.create(shaped));
    for (const listener of this.reshaped) listener();
    return true;
  }

  /** `listener` runs after each family replacement (`reshape`). */
  onReshape(listener: () => void): void {
    this.reshaped.push(listener);
  }

  /** The name a family is exposed under: the django groups take the namespace prefix, runtime families never do. */
  exposedName(def: FamilyDef): string {
    return this.options.namespace && def.group !== 'runtime' ? `${this.options.namespace}_${def.name}` : def.name;
  }

  /** Adds families computed at collection time; `name` names it in the log if it fails. Returns the function that removes it. */
  addCollector(name: string, collector: Collector): () => void {
    const entry = { site: `collector ${name}`, collector };
    this.collectors.push(entry);
    return () => {
      const at = this.collectors.indexOf(entry);
      if (at >= 0) this.collectors.splice(at, 1);
    };
  }

  /**
   * One collection: every family's snapshot, in catalog order, then each collector's. A store
   * family's snapshot holds its live series, so taking it costs nothing; outputs read the series
   * as they go (and give the event loop back between slices of a large collection). A collector
   * that throws is contained: its families are left out of this collection.
   */
  *collect(): Generator<FamilySnapshot, void, undefined> {
    for (const family of this.families.values()) yield family.snapshot();
    for (const { site, collector } of this.collectors) {
      const snapshots = contain(site, () => [...collector.collect()]);
      if (snapshots !== undefined) yield* snapshots;
    }
  }

  private create(def: FamilyDef): AnyFamily {
    const options: FamilyOptions = { name: this.exposedName(def), maxSeries: this.options.maxSeriesPerMetric, onOverflow: this.onOverflow };
    return def.type === 'counter' ? new Counter(def, options) : new Histogram(def, options, bucketBounds(def.buckets ?? 'latency', this.options.latencyBuckets));
  }

  private get<T extends AnyFamily>(def: FamilyDef, kind: abstract new (...args: never[]) => T): T {
    const f = this.families.get(def);
    if (!(f instanceof kind)) throw new TypeError(`${def.name} is not a ${kind.name} family of the catalog`);
    return f;
  }
}

/** A labelled family has samples once it has a series; an unlabelled one once its series moved from 0. */
function hasSamples(snapshot: FamilySnapshot): boolean {
  for (const point of snapshot.points) {
    if (snapshot.def.labels.length > 0) return true;
    if ('count' in point ? point.count > 0 : point.value > 0) return true;
  }
  return false;
}
