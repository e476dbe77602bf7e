import { afterEach, describe, expect, test } from 'vitest';
import { HTTP } from '../../views/index.js';
import { valueOf } from '../support/exposition.js';
import { getEach, pointsOf, pushedAfter, startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { spawnApp, type RunningApp, type SpawnOptions } from '../support/processes.js';

const APP = 'test/fixtures/coexist-app.mjs';
const LINE = 'otel-django-metrics: the app runs its own OpenTelemetry SDK: its MeterProvider is the global one now (metrics.getMeter() instruments go to its readers); ';
const closed = (port: number) => `it listens on port ${port}, so the preload closed its own metrics endpoint there`;

const running: Array<RunningApp | OtlpReceiver> = [];
afterEach(async () => {
  for (const r of running.splice(0)) await ('stop' in r ? r.stop() : r.close());
});

async function start(env: SpawnOptions['env']): Promise<RunningApp> {
  const app = await spawnApp(APP, { env });
  running.push(app);
  return app;
}

/** The preload's stderr once its line is out (it is printed on the turn after the app's setup). */
async function stderrLine(app: RunningApp): Promise<string> {
  for (let i = 0; i < 100 && !app.stderr().includes('\n'); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  return app.stderr();
}

const TRAFFIC = ['/view/home', '/view/home', '/order'];

describe("the stock PrometheusExporter on the preload's own port (both default to 9464)", () => {
  test('with djangoMetricsProducer(): the app gets the port and the global slot, its exporter serves the families and its own instrument; one line', async () => {
    const app = await start({ COEXIST_READER: 'prometheus' });
    expect(app.stdout()).toContain('registered true\nexporter listening\n');
    expect(await stderrLine(app)).toBe(`${LINE}${closed(app.metricsPort)}; djangoMetricsProducer() gives its reader the django families\n`);
    expect(await (await fetch(app.url('/provider'))).text()).toBe('true');
    await getEach(app, ...TRAFFIC);
    // The port now answers with the app's own PrometheusExporter: its scope labels on every series.
    const exp = await app.scrape();
    const scope = { otel_scope_name: 'otel-django-metrics' };
    expect(valueOf(exp, HTTP.requestsByViewTransportMethod.name, { ...scope, view: 'home', transport: 'http', method: 'GET' })).toBe(2);
    // /provider, the traffic, and this scrape: the app's exporter is an app server, counted like any other.
    expect(valueOf(exp, HTTP.requestsBefore.name, scope)).toBe(5);
    expect(valueOf(exp, `${HTTP.latencyByViewMethod.name}_count`, { ...scope, view: 'home', method: 'GET' })).toBe(2);
    expect(valueOf(exp, 'shop_orders_total', { otel_scope_name: 'shop' })).toBe(1);
    expect(exp.samples.find((s) => s.name === 'target_info')?.labels.service_name).toBe('app-sdk');
  });

  test('without it: the app still gets both, its instrument works, and the line says the families are exported nowhere', async () => {
    const app = await start({ COEXIST_READER: 'prometheus', COEXIST_PRODUCER: '0' });
    expect(app.stdout()).toContain('registered true\nexporter listening\n');
    expect(await stderrLine(app)).toBe(
      `${LINE}${closed(app.metricsPort)}; the django families are exported nowhere: add djangoMetricsProducer() to its reader's metricProducers to export them there\n`,
    );
    await getEach(app, '/order');
    const exp = await app.scrape();
    expect(valueOf(exp, 'shop_orders_total', { otel_scope_name: 'shop' })).toBe(1);
    expect(exp.samples.some((s) => s.name.startsWith('django_'))).toBe(false);
  });
});

describe('a PeriodicExportingMetricReader of the app (stock OTLP/HTTP JSON exporter), with the preload pushing too', () => {
  test('the app pushes the families with its own instrument; the preload push leaves them out, its endpoint keeps them; one line', async () => {
    const to = await startOtlpReceiver();
    running.push(to);
    const app = await start({
      COEXIST_READER: 'periodic',
      COEXIST_OTLP_URL: to.url,
      OTEL_METRICS_EXPORTER: 'prometheus,otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: to.base,
      OTEL_METRIC_EXPORT_INTERVAL: '200',
      OTEL_SERVICE_NAME: 'django',
    });
    expect(await stderrLine(app)).toBe(`${LINE}djangoMetricsProducer() gives its reader the django families, which the preload no longer pushes itself\n`);
    await getEach(app, ...TRAFFIC);
    const since = Date.now();
    const pushed = await pushedAfter(to, HTTP.requestsByViewTransportMethod.name, since);
    const byView = pushed.get(HTTP.requestsByViewTransportMethod.name)!;
    expect(byView.resource['service.name']).toBe('app-sdk');
    expect(pointsOf(byView).filter((p) => p.includes('"home"'))).toEqual(['{"method":"GET","transport":"http","view":"home"} 2']);
    expect(pointsOf(pushed.get('shop_orders'))).toEqual(['{} 1']);
    // The preload's own pushes (service django) carry what was made on its stand-in, and no family.
    await to.waitFor((r) => r.some((q) => q.at > since && q.metrics.some((m) => m.resource['service.name'] === 'django')), 10_000, "the preload's own push");
    const preloadPushes = to.requests.filter((q) => q.metrics.some((m) => m.resource['service.name'] === 'django'));
    expect([...new Set(preloadPushes.flatMap((q) => q.metrics.map((m) => `${m.scope} ${m.name}`)))]).toEqual(['early early_events']);
    expect(to.requests.filter((q) => q.metrics.some((m) => m.resource['service.name'] === 'app-sdk' && m.name === 'early_events'))).toEqual([]);
    // The endpoint is the preload's still (the app's reader listens on no port).
    expect(valueOf(await app.scrape(), HTTP.requestsBefore.name)).toBe(3);
  });
});
