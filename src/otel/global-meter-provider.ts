import type { MeterProvider } from '@opentelemetry/api';

/** The version of our `@opentelemetry/api` dependency (pinned; test/unit/global-meter-provider.test.ts checks it). */
export const API_VERSION = '1.9.1';

/** Where every copy of `@opentelemetry/api` 1.x keeps its globals, stamped with the version of the API that created it. */
const API_GLOBALS = Symbol.for(`opentelemetry.js.api.${API_VERSION.split('.')[0]}`);

type Globals = { version: string; metrics?: MeterProvider };
type Holder = { [API_GLOBALS]?: Globals };

/**
 * `metrics.setGlobalMeterProvider` of our API version, without loading the API (~45 modules,
 * 15-20 ms at startup, which apps that use no instrumented package would otherwise pay): the same
 * write to the globals object every API copy reads, with the same refusals. False if a provider
 * is already registered or the globals belong to another API version.
 */
export function registerGlobalMeterProvider(provider: MeterProvider): boolean {
  const globals = ((globalThis as Holder)[API_GLOBALS] ??= { version: API_VERSION });
  if (globals.metrics !== undefined || globals.version !== API_VERSION) return false;
  globals.metrics = provider;
  return true;
}

/** `metrics.disable()`: a later registration may take the slot. */
export function unregisterGlobalMeterProvider(): void {
  delete (globalThis as Holder)[API_GLOBALS]?.metrics;
}

/** Whether `provider` is the registered global MeterProvider. */
export function isGlobalMeterProvider(provider: MeterProvider): boolean {
  return (globalThis as Holder)[API_GLOBALS]?.metrics === provider;
}
