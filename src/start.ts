import { readConfig, type Config } from './config.js';
import { setContainmentLog } from './contain.js';
import { scrapeFunction } from './exposition/scrape-source.js';
import { startMetricsServer } from './exposition/server.js';
import { scrapeSourceOf } from './exposition/write-scrape.js';
import { enableCacheInstrumentation } from './cache/index.js';
import { startMultiProcess } from './cluster/index.js';
import { enableDbInstrumentation } from './db/index.js';
import { enableFrameworkAdapters } from './http/frameworks/index.js';
import { installListenerErrors } from './http/listener-errors.js';
import { enableOtelHttpPath } from './http/otel-http-path.js';
import { applyConfigured } from './extension/configure.js';
import { HttpRecorder } from './http/recorder.js';
import { installResponseTracker } from './http/response-tracker.js';
import { subscribeServerRequests } from './http/server-hooks.js';
import { logLine, type Logger } from './log.js';
import { enableMigrationSources } from './migrations/index.js';
import { MigrationTracker } from './migrations/tracker.js';
import { enableModelInstrumentation } from './models/index.js';
import { ModelRecorder } from './models/recorder.js';
import { watchAppSdk } from './otel/app-sdk.js';
import { startLazyMeterSdk } from './otel/lazy-sdk.js';
import type { FamilySource } from './otlp/producer.js';
import { eagerActivation, lazyActivation } from './otel/package-loads.js';
import { currentDistribution, setDistribution, type Distribution, type RunningDistribution } from './state.js';
import { startRuntimeMetrics } from './runtime/index.js';
import { Registry } from './store/registry.js';
import type { FamilySnapshot } from './store/snapshot.js';

export interface StartOptions {
  /** Settings; by default read from the environment (metrics.md section 8). */
  config?: Config;
  log?: Logger;
}

/**
 * Starts the distribution once per process (later calls return the running one); `undefined`
 * when `OTEL_SDK_DISABLED=true`. Failures of optional parts are logged, never thrown.
 */
export async function start(options: StartOptions = {}): Promise<Distribution | undefined> {
  const running = currentDistribution();
  if (running !== undefined) return running;
  const log = options.log ?? logLine;
  const config = options.config ?? readConfig(process.env, log);
  if (config.sdkDisabled) return undefined;
  setContainmentLog(log);

  const registry = new Registry(config, log);
  const http = new HttpRecorder(registry, config.trustProxy);
  applyConfigured({ registry, http }, log);
  const models = new ModelRecorder(registry, config.exportModelBulk);
  const migrations = new MigrationTracker(registry, { enabled: config.exportMigrations, refreshSeconds: config.migrationsRefreshSeconds, log });
  const startTime = Date.now();
  // Bound below, once the multi-process part is known.
  let pushedFamilies: FamilySource = () => undefined;
  const { otlp } = config.export;
  const push = otlp && { settings: otlp, startTime, families: () => (appSdk.familiesHandedOver ? undefined : pushedFamilies()) };
  const meterSdk = startLazyMeterSdk(config, log, push);
  const { meterProvider } = meterSdk;

  installResponseTracker();
  installListenerErrors();
  const disableHttp = config.httpPath === 'otel' ? enableOtelHttpPath(http, meterProvider) : subscribeServerRequests(http);
  // Instrumentations load with the first package they patch; all at once for the ESM loader.
  const activate = config.esmHook ? eagerActivation() : lazyActivation();
  const context = { config, registry, meterProvider, log, activate };
  const disables = [disableHttp, enableFrameworkAdapters(http, activate), enableDbInstrumentation(context), enableCacheInstrumentation(context)];
  // The migration gauges follow the models in the exposition, then the runtime families.
  disables.push(enableModelInstrumentation(context), registry.addCollector('migrations', migrations.collector), enableMigrationSources(context, migrations), () => migrations.stop());
  if (config.runtimeMetrics) {
    const runtime = startRuntimeMetrics();
    disables.push(registry.addCollector('runtime', runtime.collector), runtime.stop);
  }

  // Multi-process mode: the scrape is the merge of every process's state (the OTel SDK's own instruments stay this process's).
  const multiProcess = startMultiProcess(context);
  // First at shutdown: its last publication still holds every family.
  if (multiProcess !== undefined) disables.unshift(multiProcess.stop);
  const scrapeOf = (collect: () => Iterable<FamilySnapshot> | Promise<Iterable<FamilySnapshot>>) =>
    scrapeFunction(scrapeSourceOf(collect, () => meterSdk.collect(), config.otelInfo));
  const ownScrape = scrapeOf(() => registry.collect());
  const scrape = multiProcess !== undefined ? scrapeOf(() => multiProcess.collect()) : ownScrape;

  const dedicated = multiProcess?.dedicatedServer ?? 'merged';
  const wantsServer = config.export.prometheus && (config.port !== undefined || config.portRange !== undefined) && dedicated !== 'none';
  const server = wantsServer ? startMetricsServer(config, dedicated === 'own' ? ownScrape : scrape, log) : undefined;
  pushedFamilies = pushSource(config, registry, multiProcess);
  const appSdk = watchAppSdk({ provider: meterProvider, server: server?.server, pushes: otlp !== undefined, activate, log });
  disables.push(appSdk.stop);

  const distribution: RunningDistribution = {
    config,
    registry,
    http,
    models,
    migrations,
    scrape,
    startTime,
    pushedFamilies,
    producerAttached: () => appSdk.producerAttached(),
    metricsPort: server?.port ?? Promise.resolve(undefined),
    async shutdown() {
      if (currentDistribution() === distribution) setDistribution(undefined);
      for (const disable of disables) disable();
      if (server?.server.listening) await new Promise<void>((resolve) => server.server.close(() => resolve()));
      await meterSdk.shutdown();
    },
  };
  setDistribution(distribution);
  return distribution;
}

/**
 * What this process pushes of the families, chosen so that no count is pushed twice: alone, its
 * own; a node:cluster primary, the merge of itself and its workers (exited ones included), and
 * its workers nothing of them; with a state directory (any process may serve the merge, so N
 * pushes of it would count N times) or a port per process, each process its own, under its own
 * service.instance.id. Every process pushes its own OTel SDK instruments.
 */
function pushSource(config: Config, registry: Registry, multiProcess: ReturnType<typeof startMultiProcess>): FamilySource {
  if (multiProcess === undefined || config.multiprocDir !== undefined || multiProcess.dedicatedServer === 'own') return () => registry.collect();
  if (multiProcess.dedicatedServer === 'none') return () => undefined;
  return () => multiProcess.collect();
}
