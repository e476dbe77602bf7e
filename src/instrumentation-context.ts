import type { MeterProvider } from '@opentelemetry/api';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { Activation } from './otel/package-loads.js';
import type { Registry } from './store/registry.js';

/** What a driver or cache instrumentation gets when the distribution starts it. */
export interface InstrumentationContext {
  readonly config: Config;
  readonly registry: Registry;
  readonly meterProvider: MeterProvider;
  readonly log: Logger;
  /** Starts an instrumentation when the app first loads one of its packages (or at once). */
  readonly activate: Activation;
}
