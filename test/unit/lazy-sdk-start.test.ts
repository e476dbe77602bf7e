import { createNoopMeter, metrics, type MeterProvider } from '@opentelemetry/api';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { writeOtelMetrics } from '../../src/exposition/otel-metrics.js';
import { markOwnServer } from '../../src/exposition/own-server.js';
import { startLazyMeterSdk, type LazyMeterSdk } from '../../src/otel/lazy-sdk.js';
import { PENDING_MEASUREMENT_PRESSURE } from '../../src/otel/pending.js';

/** Counts SDK creations, i.e. loads; `fail` makes the next ones throw. */
const sdkLoads = vi.hoisted(() => ({ count: 0, fail: false }));
vi.mock('../../src/sdk.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/sdk.js')>();
  return {
    ...original,
    createMeterSdk: (config: Parameters<typeof original.createMeterSdk>[0]) => {
      sdkLoads.count++;
      if (sdkLoads.fail) throw new Error('broken SDK');
      return original.createMeterSdk(config);
    },
  };
});

const CONFIG = { serviceName: undefined, maxSeriesPerMetric: 10_000, otelInfo: false };

let lines: string[];
let sdk: LazyMeterSdk | undefined;
const servers: Server[] = [];

function start(): LazyMeterSdk {
  lines = [];
  sdk = startLazyMeterSdk(CONFIG, (line) => lines.push(line));
  return sdk;
}

async function scrape(lazy: LazyMeterSdk): Promise<string> {
  const out: string[] = [];
  const collected = await lazy.collect();
  if (collected) writeOtelMetrics(out, collected, false);
  return out.join('');
}

/** Lets every pending immediate and the turn after it run. */
const turns = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
};

async function listen(server: Server, onListening?: () => void): Promise<void> {
  servers.push(server);
  server.listen(0, '127.0.0.1', onListening);
  await once(server, 'listening');
}

afterEach(async () => {
  for (const server of servers.splice(0)) server.close();
  await sdk?.shutdown();
  sdk = undefined;
  metrics.disable();
  sdkLoads.count = 0;
  sdkLoads.fail = false;
});

describe('startLazyMeterSdk', () => {
  test('registers the global MeterProvider at once; the SDK loads at the first scrape, once, with what came before; shutdown releases both', async () => {
    const lazy = start();
    expect(metrics.getMeterProvider()).toBe(lazy.meterProvider);
    metrics.getMeter('app').createCounter('early').add(2);
    await turns();
    expect(sdkLoads.count).toBe(0);
    expect(await scrape(lazy)).toBe('# HELP early_total description missing\n# TYPE early_total counter\nearly_total 2.0\n');
    metrics.getMeter('app').createCounter('early').add(1);
    expect(await scrape(lazy)).toBe('# HELP early_total description missing\n# TYPE early_total counter\nearly_total 3.0\n');
    expect(sdkLoads.count).toBe(1);
    await lazy.shutdown();
    expect(metrics.getMeterProvider()).not.toBe(lazy.meterProvider);
    expect(await scrape(lazy)).toBe('');
    await lazy.shutdown();
    expect(lines).toEqual([]);
  });

  test("loads on the turn after the app's first server listens; the package's own server does not count", async () => {
    const lazy = start();
    const own = createHttpServer();
    markOwnServer(own);
    await listen(own);
    await turns();
    expect(sdkLoads.count).toBe(0);
    let loadsWhenListening: number | undefined;
    await listen(createServer(), () => (loadsWhenListening = sdkLoads.count));
    expect(loadsWhenListening).toBe(0);
    await vi.waitFor(() => expect(sdkLoads.count).toBe(1), { timeout: 10_000 });
    await scrape(lazy);
    expect(sdkLoads.count).toBe(1);
  });

  test(`loads once ${PENDING_MEASUREMENT_PRESSURE} measurements are waiting for it`, async () => {
    const lazy = start();
    const counter = metrics.getMeter('app').createCounter('busy');
    for (let i = 1; i < PENDING_MEASUREMENT_PRESSURE; i++) counter.add(1);
    await turns();
    expect(sdkLoads.count).toBe(0);
    counter.add(1);
    await vi.waitFor(() => expect(sdkLoads.count).toBe(1), { timeout: 10_000 });
    expect(await scrape(lazy)).toBe(`# HELP busy_total description missing\n# TYPE busy_total counter\nbusy_total ${PENDING_MEASUREMENT_PRESSURE}.0\n`);
  });

  test('shut down before loading: the SDK is never loaded, nothing is served, the global provider is released', async () => {
    const lazy = start();
    metrics.getMeter('app').createCounter('lost').add(1);
    await lazy.shutdown();
    await listen(createServer());
    await turns();
    expect(await scrape(lazy)).toBe('');
    expect(sdkLoads.count).toBe(0);
    expect(metrics.getMeterProvider()).not.toBe(lazy.meterProvider);
  });

  test('shut down while the SDK modules load: the SDK is not created, and the scrape waiting for it gets nothing', async () => {
    const lazy = start();
    metrics.getMeter('app').createCounter('c').add(1);
    const scraping = scrape(lazy);
    await lazy.shutdown();
    expect(await scraping).toBe('');
    expect(sdkLoads.count).toBe(0);
    expect(await scrape(lazy)).toBe('');
  });

  test('an SDK that fails to load is one log line; scrapes and measurements go on without it', async () => {
    sdkLoads.fail = true;
    const lazy = start();
    const counter = metrics.getMeter('app').createCounter('c');
    counter.add(1);
    expect(await scrape(lazy)).toBe('');
    counter.add(1);
    expect(await scrape(lazy)).toBe('');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^OTel metrics SDK not loaded; metrics\.getMeter\(\) and instrumentation metrics are not served: Error: broken SDK/);
  });

  test("another global MeterProvider: one log line, the package's provider still serves what it is given, theirs stays registered", async () => {
    const theirs: MeterProvider = { getMeter: () => createNoopMeter() };
    metrics.setGlobalMeterProvider(theirs);
    const lazy = start();
    expect(lines).toEqual([
      'another global MeterProvider is already registered; instruments from metrics.getMeter() go to it and are not served on /metrics',
    ]);
    expect(metrics.getMeterProvider()).toBe(theirs);
    lazy.meterProvider.getMeter('instrumentation').createCounter('given').add(1);
    expect(await scrape(lazy)).toBe('# HELP given_total description missing\n# TYPE given_total counter\ngiven_total 1.0\n');
    await lazy.shutdown();
    expect(metrics.getMeterProvider()).toBe(theirs);
  });
});
