import type { MeterProvider } from '@opentelemetry/api';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { FamilySource } from '../otlp/producer.js';
import type { OtlpSettings } from '../otlp/settings.js';
import type { MeterSdk, Push } from '../sdk.js';
import { whenAppListens } from './app-listening.js';
import { DeferredMeterProvider } from './deferred-meter-provider.js';
import { registerGlobalMeterProvider, unregisterGlobalMeterProvider } from './global-meter-provider.js';
import { PENDING_MEASUREMENT_LIMIT } from './pending.js';

export interface LazyMeterSdk {
  /** The global MeterProvider: what it hands out is served whether made before the SDK loaded or after. */
  readonly meterProvider: MeterProvider;
  /** The SDK's metrics for a scrape, loading the SDK first if it has not loaded yet; undefined once closed or if it failed to load. */
  collect(): Promise<ResourceMetrics | undefined>;
  shutdown(): Promise<void>;
}

/** The OTLP push the SDK starts with once loaded: where to, and the families it adds. */
export interface PushPlan {
  readonly settings: OtlpSettings;
  readonly families: FamilySource;
  /** When the cumulative counts began (ms since the epoch). */
  readonly startTime: number;
}

/**
 * With a push, the SDK loads at the latest this long after the start, so that a process that
 * never listens (a worker, a script) pushes too; an app that listens sooner loads it then.
 */
const PUSH_LOAD_DELAY_MS = 1000;

/**
 * Registers the global MeterProvider at once and loads the OTel SDK (sdk-metrics, core and
 * resources: ~100 modules) only once the app no longer waits for it: on the turn after
 * the app starts listening, at the first scrape, or when 1,000 measurements are waiting for it,
 * whichever comes first (or PUSH_LOAD_DELAY_MS after the start when `push` is given).
 */
export function startLazyMeterSdk(config: Pick<Config, 'serviceName' | 'maxSeriesPerMetric'> & Partial<Pick<Config, 'export'>>, log: Logger, push?: PushPlan): LazyMeterSdk {
  let loading: Promise<MeterSdk | undefined> | undefined;
  let closed = false;
  const load = (): Promise<MeterSdk | undefined> => {
    if (loading === undefined) {
      stopWaiting();
      loading = closed ? Promise.resolve(undefined) : loadSdk();
    }
    return loading;
  };
  const stopListening = whenAppListens(() => void load());
  const pushTimer = push === undefined ? undefined : setTimeout(() => void load(), PUSH_LOAD_DELAY_MS).unref();
  const stopWaiting = (): void => {
    stopListening();
    clearTimeout(pushTimer);
  };
  const provider = new DeferredMeterProvider(() => void load());
  const registered = registerGlobalMeterProvider(provider);
  if (!registered) {
    log('another global MeterProvider is already registered; instruments from metrics.getMeter() go to it and are not served on /metrics');
  }

  async function loadSdk(): Promise<MeterSdk | undefined> {
    try {
      const [{ createMeterSdk }, pushed] = await Promise.all([import('../sdk.js'), push && loadPush(push, log)]);
      if (closed) return undefined;
      const sdk = createMeterSdk(config, pushed);
      const { dropped, failed } = provider.attach(sdk.meterProvider);
      if (dropped > 0) log(`${dropped} OTel measurements made before the metrics SDK loaded were dropped (more than ${PENDING_MEASUREMENT_LIMIT} waiting)`);
      if (failed > 0) log(`${failed} OTel metric calls made before the metrics SDK loaded failed when replayed`);
      return sdk;
    } catch (err) {
      provider.close();
      log(`OTel metrics SDK not loaded; metrics.getMeter() and instrumentation metrics are not served: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return undefined;
    }
  }

  async function stop(): Promise<void> {
    closed = true;
    stopWaiting();
    const sdk = await loading;
    provider.close();
    await sdk?.meterProvider.shutdown();
    if (registered) unregisterGlobalMeterProvider(); // lets a later start() register its own provider
  }

  let stopping: Promise<void> | undefined;
  return {
    meterProvider: provider,
    collect: async () => (closed ? undefined : (await load())?.collect()),
    shutdown: () => (stopping ??= stop()),
  };
}

/** The OTLP exporter and the families' producer (their modules load with the SDK, only when a push is configured). */
async function loadPush(plan: PushPlan, log: Logger): Promise<Push> {
  const [{ otlpExporter }, { familyProducer, FamilyConverter }] = await Promise.all([import('../otlp/exporter.js'), import('../otlp/producer.js')]);
  return { exporter: otlpExporter(plan.settings, log), families: familyProducer(plan.families, new FamilyConverter(plan.startTime)) };
}
