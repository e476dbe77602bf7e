import { ALL_FAMILIES, BODY_BUCKETS, type FamilyDef } from '../../views/index.js';
import { onceLogger, type Logger } from '../log.js';
import { Counter } from './counter.js';
import type { Family, FamilyOptions } from './family.js';
import type { LabelText } from './labels.js';

type AnyFamily = Family<{ readonly labels: LabelText }>;
import { Gauge } from './gauge.js';
import { Histogram } from './histogram.js';

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

  /** Appends every family's exposition text, in catalog order. */
  write(out: string[]): void {
    for (const f of this.families.values()) f.write(out);
  }

  private get<T extends AnyFamily>(def: FamilyDef, kind: abstract new (...args: never[]) => T): T {
    const f = this.families.get(def);
    if (!(f instanceof kind)) throw new TypeError(`${def.name} is not a ${kind.name} family of the catalog`);
    return f;
  }
}

function create(def: FamilyDef, options: FamilyOptions, latency: readonly number[]): AnyFamily {
  switch (def.type) {
    case 'counter':
      return new Counter(def, options);
    case 'gauge':
      return new Gauge(def, options);
    case 'histogram':
      return new Histogram(def, options, def.buckets === 'body' ? BODY_BUCKETS : latency);
  }
}
