import type { MeterProvider } from '@opentelemetry/api';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Server } from 'node:net';
import { createRequire } from 'node:module';
import { contain, safe } from '../contain.js';
import { isOwnServer } from '../exposition/own-server.js';
import type { Logger } from '../log.js';
import { isGlobalMeterProvider, registerGlobalMeterProvider, unregisterGlobalMeterProvider } from './global-meter-provider.js';
import type { Activation, Disable } from './package-loads.js';

/** Published by `net.Server.listen` before it binds (Node 22.3, backported to late 20.x). */
const LISTEN_START = 'tracing:net.server.listen:asyncStart';

/** What the preload gives way on when the app brings its own OpenTelemetry SDK. */
export interface AppSdkOptions {
  /** The preload's global stand-in (src/otel/lazy-sdk.ts). */
  readonly provider: MeterProvider;
  /** The dedicated metrics server, if one was started. */
  readonly server: Server | undefined;
  /** Whether the preload pushes the families over OTLP itself. */
  readonly pushes: boolean;
  readonly activate: Activation;
  readonly log: Logger;
}

export interface AppSdk {
  /** The app added djangoMetricsProducer() to a reader of its own: it exports the families from now on. */
  producerAttached(): void;
  /** Whether the app's reader has taken the families over (the preload's push then leaves them out). */
  readonly familiesHandedOver: boolean;
  stop(): void;
}

/**
 * Coexistence with an SDK the app sets up itself (a NodeSDK or a MeterProvider of its own, often
 * with @opentelemetry/exporter-prometheus, whose default port is also 9464). The preload starts
 * first, so it holds the global MeterProvider and the port when the app asks for them; it gives
 * both up instead of failing the app: the app's `metrics.setGlobalMeterProvider` succeeds (the
 * preload's stand-in steps out of the slot; instruments made before stay on the preload's
 * outputs), and a server of the app starting to listen on the dedicated port gets it (the
 * preload's endpoint closes first). What it did is one line, for everything done in one turn of
 * the app's setup.
 */
export function watchAppSdk(options: AppSdkOptions): AppSdk {
  const { log } = options;
  const events = { global: false, port: undefined as number | undefined, producer: false };
  let handedOver = false;
  let serverOpen = options.server !== undefined;
  let scheduled = false;

  const report = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      const did: string[] = [];
      if (events.global) did.push('its MeterProvider is the global one now (metrics.getMeter() instruments go to its readers)');
      if (events.port !== undefined) did.push(`it listens on port ${events.port}, so the preload closed its own metrics endpoint there`);
      if (events.producer) did.push(`djangoMetricsProducer() gives its reader the django families${options.pushes ? ', which the preload no longer pushes itself' : ''}`);
      events.global = events.producer = false;
      events.port = undefined;
      if (did.length > 0) log(`the app runs its own OpenTelemetry SDK: ${did.join('; ')}${handedOver ? '' : `; ${familiesLeft()}`}`);
    });
  };

  const familiesLeft = (): string => {
    const outputs = [serverOpen ? "the preload's endpoint" : undefined, options.pushes ? "the preload's OTLP push" : undefined].filter(Boolean);
    const hint = "add djangoMetricsProducer() to its reader's metricProducers to export them there";
    return outputs.length > 0 ? `the django families stay on ${outputs.join(' and ')} (${hint})` : `the django families are exported nowhere: ${hint}`;
  };

  const disableGlobal = options.activate(['@opentelemetry/api'], () =>
    yieldGlobalRegistration(options.provider, () => {
      events.global = true;
      report();
    }),
  );

  const onListen = safe(`${LISTEN_START} subscriber`, (message: unknown): void => {
    const { server, options: listen } = message as { server?: unknown; options?: { port?: unknown } };
    const ours = options.server;
    if (!serverOpen || ours === undefined || isOwnServer(server) || !ours.listening) return;
    const port = (ours.address() as { port?: number } | null)?.port;
    if (port === undefined || listen?.port !== port) return;
    // Closing stops listening at once, so the app's bind that follows succeeds.
    ours.close();
    serverOpen = false;
    events.port = port;
    report();
  });
  subscribe(LISTEN_START, onListen);

  return {
    producerAttached() {
      if (handedOver) return;
      handedOver = true;
      events.producer = true;
      report();
    },
    get familiesHandedOver() {
      return handedOver;
    },
    stop() {
      unsubscribe(LISTEN_START, onListen);
      disableGlobal();
    },
  };
}

type MetricsApi = { setGlobalMeterProvider(provider: MeterProvider): boolean };

/**
 * Has the API's `metrics.setGlobalMeterProvider` take another provider than `ours`: ours leaves
 * the slot first (and takes it back if the registration fails anyway). Only the decision is
 * contained; the API's own registration runs as the app called it.
 */
function yieldGlobalRegistration(ours: MeterProvider, onYield: () => void): Disable {
  // The one copy of the API (a second copy would see no-op providers): the app's is ours.
  const { metrics } = createRequire(import.meta.url)('@opentelemetry/api') as { metrics: MetricsApi };
  const original = metrics.setGlobalMeterProvider;
  const leaves = safe('global MeterProvider registration', (provider: MeterProvider): boolean => {
    if (provider === ours || !isGlobalMeterProvider(ours)) return false;
    unregisterGlobalMeterProvider();
    return true;
  });
  const wrapped = function (this: unknown, provider: MeterProvider): boolean {
    const left = leaves(provider) === true;
    const registered = original.call(this, provider);
    if (left) contain('global MeterProvider registration', () => (registered ? onYield() : registerGlobalMeterProvider(ours)));
    return registered;
  };
  Object.defineProperty(metrics, 'setGlobalMeterProvider', { value: wrapped, configurable: true, writable: true });
  return () => {
    if (metrics.setGlobalMeterProvider === wrapped) delete (metrics as Partial<MetricsApi>).setGlobalMeterProvider;
  };
}
