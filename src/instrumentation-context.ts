import type { MeterProvider } from '@opentelemetry/api';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { Registry } from './store/registry.js';

/** What a driver or cache instrumentation gets when the distribution starts it. */
export interface InstrumentationContext {
  readonly config: Config;
  readonly registry: Registry;
  readonly meterProvider: MeterProvider;
  readonly log: Logger;
}
