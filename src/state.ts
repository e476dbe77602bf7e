import type { Config } from './config.js';
import type { HttpRecorder } from './http/recorder.js';
import type { Registry } from './store/registry.js';

/** A running distribution: what the public API, adapters and endpoints reach through the global slot. */
export interface Distribution {
  readonly config: Config;
  readonly registry: Registry;
  readonly http: HttpRecorder;
  /** The full exposition text, as a scrape of `/metrics` returns it. */
  scrape(): Promise<string>;
  /** Port of the dedicated metrics server once it listens; `undefined` if there is none. */
  readonly metricsPort: Promise<number | undefined>;
  shutdown(): Promise<void>;
}

/**
 * One process-global slot shared by the `--import` entry and every ESM or CJS import of the
 * package (metrics.md section 10), so two loaded copies still talk to one distribution.
 */
const SLOT = Symbol.for('otel-django-metrics');

type Holder = { [SLOT]?: Distribution };

export function currentDistribution(): Distribution | undefined {
  return (globalThis as Holder)[SLOT];
}

export function setDistribution(d: Distribution | undefined): void {
  (globalThis as Holder)[SLOT] = d;
}
