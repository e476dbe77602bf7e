import { performance } from 'node:perf_hooks';
import { ALL_FAMILIES, bucketBounds, type FamilyDef } from '../../views/index.js';
import type { TakeParts } from '../exposition/scrape-source.js';
import { onceLogger, type Logger } from '../log.js';
import { Counter } from './counter.js';
import type { Family, FamilyOptions } from './family.js';
import { Gauge } from './gauge.js';
import { Histogram } from './histogram.js';
import type { LabelText } from './labels.js';

/** Longest stretch a scrape keeps the event loop, in milliseconds. */
const SLICE_MS = 10;

type AnyFamily = Family<{ readonly labels: LabelText }>;

export interface RegistryOptions {
  namespace: string;
  latencyBuckets: readonly number[];
  maxSeriesPerMetric: number;
}

/**
 * The 34 django-prometheus families, created up front so that every one has HELP/TYPE (and the
 * unlabelled ones their zero samples) from the moment the distribution starts (E8).
 */
export class Registry {
  private readonly families = new Map<FamilyDef, AnyFamily>();

  constructor(options: RegistryOptions, log?: Logger) {
    const warnOnce = onceLogger(log);
    const onOverflow = (name: string, limit: number) =>
      warnOnce(name, `${name} reached PROMETHEUS_MAX_SERIES_PER_METRIC=${limit}; further label sets are counted under otel_metric_overflow="true"`);
    for (const def of ALL_FAMILIES) {
      const familyOptions: FamilyOptions = {
        name: options.namespace ? `${options.namespace}_${def.name}` : def.name,
        maxSeries: options.maxSeriesPerMetric,
        onOverflow,
      };
      this.families.set(def, create(def, familyOptions, options.latencyBuckets));
    }
  }

  counter(def: FamilyDef): Counter {
    return this.get(def, Counter);
  }

  histogram(def: FamilyDef): Histogram {
    return this.get(def, Histogram);
  }

  gauge(def: FamilyDef): Gauge {
    return this.get(def, Gauge);
  }

  /**
   * Appends every family's exposition text, in catalog order. A scrape of tens of thousands of
   * series takes longer than an app can stall, so the work is cut into slices of at most
   * SLICE_MS with the event loop given back between them. `take` sees the text after every
   * series, so a response can send it on as it grows (see ScrapeSource).
   */
  async write(out: string[], take?: TakeParts): Promise<void> {
    let sliceStart = performance.now();
    for (const f of this.families.values()) {
      for (const _ of f.write(out)) {
        const reading = take?.(out);
        if (reading !== undefined) await reading;
        if (performance.now() - sliceStart < SLICE_MS) continue;
        await fullLoopTurn();
        sliceStart = performance.now();
      }
    }
  }

  private get<T extends AnyFamily>(def: FamilyDef, kind: abstract new (...args: never[]) => T): T {
    const f = this.families.get(def);
    if (!(f instanceof kind)) throw new TypeError(`${def.name} is not a ${kind.name} family of the catalog`);
    return f;
  }
}

/**
 * Lets one whole event-loop iteration (timers, I/O) run. One setImmediate is not enough: set
 * from an I/O callback (the request, a drained response) it runs in that same iteration's check
 * phase, before any timer, and two slices would run back to back.
 */
async function fullLoopTurn(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
}

function create(def: FamilyDef, options: FamilyOptions, latency: readonly number[]): AnyFamily {
  switch (def.type) {
    case 'counter':
      return new Counter(def, options);
    case 'gauge':
      return new Gauge(def, options);
    case 'histogram':
      return new Histogram(def, options, bucketBounds(def.buckets ?? 'latency', latency));
  }
}
