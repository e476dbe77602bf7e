import type { Config } from './config.js';
import type { HttpRecorder } from './http/recorder.js';
import type { MigrationTracker } from './migrations/tracker.js';
import type { ModelRecorder } from './models/recorder.js';
import type { FamilySource } from './otlp/producer.js';
import type { Registry } from './store/registry.js';

/** A running distribution, as `start()` gives it to the app. */
export interface Distribution {
  readonly config: Config;
  /** The full exposition text, as a scrape of `/metrics` returns it. */
  scrape(): Promise<string>;
  /** Port of the dedicated metrics server once it listens; `undefined` if there is none. */
  readonly metricsPort: Promise<number | undefined>;
  shutdown(): Promise<void>;
}

/** What the public API, adapters and endpoints reach through the global slot: also the internals. */
export interface RunningDistribution extends Distribution {
  readonly registry: Registry;
  readonly http: HttpRecorder;
  readonly models: ModelRecorder;
  readonly migrations: MigrationTracker;
  /** When the cumulative counts began (ms since the epoch). */
  readonly startTime: number;
  /** The families this process exports over OTLP (its own, the node:cluster merge, or none). */
  readonly pushedFamilies: FamilySource;
  /** The app's own reader takes the families over (djangoMetricsProducer()). */
  producerAttached(): void;
}

/**
 * One process-global slot shared by the `--import` entry and every ESM or CJS import of the
 * package (metrics.md section 10), so two loaded copies still talk to one distribution.
 */
const SLOT = Symbol.for('otel-django-metrics');

type Holder = { [SLOT]?: RunningDistribution };

export function currentDistribution(): RunningDistribution | undefined {
  return (globalThis as Holder)[SLOT];
}

export function setDistribution(d: RunningDistribution | undefined): void {
  (globalThis as Holder)[SLOT] = d;
}
