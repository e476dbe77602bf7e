import { readdir, readFile, readlink } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, test } from 'vitest';
import { ALL_FAMILIES, BODY_BUCKETS, DEFAULT_LATENCY_BUCKETS } from '../../views/index.js';
import { formatFloat } from '../../src/exposition/format.js';
import { parseExposition, seriesOf, valueOf, vectorOf, type Exposition } from '../support/exposition.js';
import { freePort, spawnApp, type RunningApp, type SpawnOptions } from '../support/processes.js';

/** The settings of metrics.md section 8, each in a child process started with the preload. */
const APP = 'test/fixtures/settings-app.mjs';
const PREFIX = 'otel-django-metrics: ';

let running: RunningApp[] = [];
let held: Server[] = [];

async function start(env: SpawnOptions['env'] = {}): Promise<RunningApp> {
  const app = await spawnApp(APP, { env });
  running.push(app);
  return app;
}

afterEach(async () => {
  await Promise.all(running.map((app) => app.stop()));
  await Promise.all(held.map((s) => new Promise((resolve) => s.close(resolve))));
  running = [];
  held = [];
});

async function get(app: RunningApp, path: string, headers?: Record<string, string>): Promise<number> {
  const res = await fetch(app.url(path), { headers });
  await res.text();
  return res.status;
}

async function scrapePort(port: number): Promise<Exposition> {
  return parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
}

/** Resolves once `predicate` holds; the dedicated server binds and logs asynchronously. */
async function until(what: string, predicate: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function stderrHas(app: RunningApp, line: string): Promise<void> {
  return until(`stderr line ${line}`, () => app.stderr().includes(line));
}

function refused(port: number): Promise<void> {
  return expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
}

/** Holds `port` on 127.0.0.1 (where spawnApp binds the dedicated server) until the test ends. */
function occupy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => {
      held.push(server);
      resolve(true);
    });
  });
}

/** `n` consecutive ports, all occupied by the test; release the ones the app should get. */
async function occupiedRange(n: number): Promise<number> {
  for (;;) {
    const first = await freePort();
    const ok = [];
    for (let i = 0; i < n; i++) ok.push(await occupy(first + i));
    if (ok.every(Boolean)) return first;
    await release(...held.splice(0));
  }
}

async function release(...servers: Server[]): Promise<void> {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  held = held.filter((s) => !servers.includes(s));
}

/** TCP ports a process listens on, from /proc (its socket inodes matched against the listening sockets). */
async function listeningPorts(pid: number): Promise<number[]> {
  return [...new Set((await listening(pid)).map((l) => l.port))].sort((a, b) => a - b);
}

/** The listening sockets of a process: address (`0.0.0.0`, `::` or a dotted IPv4) and port. */
async function listening(pid: number): Promise<{ address: string; port: number }[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''));
    if (m) inodes.add(m[1]!);
  }
  const sockets: { address: string; port: number }[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (await readFile(table, 'utf8').catch(() => '')).split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] !== '0A' || !inodes.has(cols[9]!)) continue;
      const [hex, port] = cols[1]!.split(':');
      sockets.push({ address: procAddress(hex!), port: parseInt(port!, 16) });
    }
  }
  return sockets;
}

/** /proc/net/tcp's hex address: IPv4 in host (little-endian) byte order, IPv6 all-zero for `::`. */
function procAddress(hex: string): string {
  if (hex.length === 8) return (hex.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)).join('.');
  return /^0+$/.test(hex) ? '::' : hex;
}

/** The distinct `le` lists of a histogram's series: one list when every series has the same layout. */
function leOf(exp: Exposition, name: string): string[][] {
  const bySeries = new Map<string, string[]>();
  for (const { name: sample, labels } of exp.samples) {
    if (sample !== `${name}_bucket`) continue;
    const { le, ...rest } = labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    bySeries.set(key, [...(bySeries.get(key) ?? []), le!]);
  }
  return [...new Set([...bySeries.values()].map((l) => JSON.stringify(l)))].map((l) => JSON.parse(l) as string[]);
}
const LATENCY = ['django_http_requests_latency_including_middlewares_seconds', 'django_http_requests_latency_seconds_by_view_method', 'django_db_query_duration_seconds'];
const BODY = ['django_http_requests_body_total_bytes', 'django_http_responses_body_total_bytes'];
const layout = (bounds: readonly number[]) => [[...bounds.map(formatFloat), '+Inf']];

describe('PROMETHEUS_METRIC_NAMESPACE', () => {
  test('=shop prefixes exactly the 34 django families (samples, HELP, TYPE) and nothing else', async () => {
    const app = await start({ PROMETHEUS_METRIC_NAMESPACE: 'shop' });
    await get(app, '/view/home');
    await get(app, '/db-observe');
    const exp = await app.scrape();

    const prefixed = [...exp.families.keys()].filter((n) => n.startsWith('shop_'));
    expect(prefixed).toEqual(ALL_FAMILIES.map((f) => `shop_${f.name}`));
    for (const f of ALL_FAMILIES) {
      // HELP never changes: #4's keeps its un-prefixed reference.
      expect(exp.families.get(`shop_${f.name}`), f.name).toEqual({ help: f.help, type: f.type });
      expect(exp.families.has(f.name), f.name).toBe(false);
    }
    expect(exp.families.get('shop_django_http_requests_unknown_latency_including_middlewares_total')!.help).toBe(
      'Count of requests for which the latency was unknown (when computing django_http_requests_latency_including_middlewares_seconds).',
    );
    expect(exp.samples.filter((s) => s.name.startsWith('django_'))).toEqual([]);
    expect(valueOf(exp, 'shop_django_http_requests_before_middlewares_total')).toBe(2);
    expect(vectorOf(exp, 'shop_django_http_requests_total_by_view_transport_method_total')).toEqual([
      '{"method":"GET","transport":"http","view":"home"} 1',
    ]);
    // User (and runtime) metrics are never prefixed.
    expect(valueOf(exp, 'fixture_user_events_total')).toBe(1);
    expect(exp.samples.filter((s) => s.name.startsWith('shop_') && !s.name.startsWith('shop_django_'))).toEqual([]);
  });
});

describe('PROMETHEUS_LATENCY_BUCKETS', () => {
  test.each(['0.05,0.5,5', '0.05, 0.5, 5, inf', '0.05,0.5,5,+Inf'])(
    '%j sets the le list of the three latency histograms exactly; body buckets unchanged',
    async (buckets) => {
      const app = await start({ PROMETHEUS_LATENCY_BUCKETS: buckets });
      await get(app, '/view/home');
      await get(app, '/db-observe');
      const exp = await app.scrape();
      expect(LATENCY.map((n) => leOf(exp, n))).toEqual(LATENCY.map(() => [['0.05', '0.5', '5.0', '+Inf']]));
      expect(BODY.map((n) => leOf(exp, n))).toEqual(BODY.map(() => layout(BODY_BUCKETS)));
      expect(valueOf(exp, 'django_db_query_duration_seconds_bucket', { alias: 'default', vendor: 'postgresql', le: '0.05' })).toBe(0);
      expect(valueOf(exp, 'django_db_query_duration_seconds_bucket', { alias: 'default', vendor: 'postgresql', le: '0.5' })).toBe(1);
    },
  );
});

describe('an invalid value: exactly one stderr line naming variable and value, then the default; the app serves', () => {
  const defaultLatency = async (app: RunningApp) => {
    await get(app, '/view/home');
    await get(app, '/db-observe');
    const exp = await app.scrape();
    expect(LATENCY.map((n) => leOf(exp, n))).toEqual(LATENCY.map(() => layout(DEFAULT_LATENCY_BUCKETS)));
  };
  const defaultPort = async () => {
    expect(valueOf(await scrapePort(9464), 'django_http_requests_before_middlewares_total')).toBe(1);
  };

  test.each<[string, string, string, (app: RunningApp) => Promise<void>]>([
    ['PROMETHEUS_METRIC_NAMESPACE', '1bad', 'must match [A-Za-z_][A-Za-z0-9_]*', async (app) => {
      const exp = await app.scrape();
      expect([...exp.families.keys()].filter((n) => n.startsWith('django_'))).toEqual(ALL_FAMILIES.map((f) => f.name));
    }],
    ['PROMETHEUS_LATENCY_BUCKETS', '0.5,0.1', 'not increasing', defaultLatency],
    ['PROMETHEUS_LATENCY_BUCKETS', 'a,b', 'not a decimal number: a', defaultLatency],
    ['PROMETHEUS_LATENCY_BUCKETS', '0x10,0x20', 'not a decimal number: 0x10', defaultLatency],
    ['PROMETHEUS_LATENCY_BUCKETS', '0.1,Infinity', 'not a decimal number: Infinity', defaultLatency],
    ['PROMETHEUS_METRICS_EXPORT_PORT', '70000', 'out of range 1-65535', defaultPort],
    ['PROMETHEUS_METRICS_EXPORT_PORT', 'abc', 'not an integer', defaultPort],
    ['PROMETHEUS_METRICS_EXPORT_PORT_RANGE', '9-3', 'end before start', async (app) => {
      // No range: the plain port applies.
      expect(valueOf(await app.scrape(), 'django_http_requests_before_middlewares_total')).toBe(1);
    }],
    ['PROMETHEUS_TRUST_PROXY', 'maybe', 'expected true/false/1/0/yes/no/on/off', async (app) => {
      await get(app, '/', { 'X-Forwarded-Proto': 'https' });
      expect(vectorOf(await app.scrape(), 'django_http_requests_total_by_transport_total')).toEqual(['{"transport":"http"} 2']);
    }],
    ['PROMETHEUS_MAX_SERIES_PER_METRIC', '0', 'out of range 1-9007199254740991', async (app) => {
      for (let i = 0; i < 10; i++) await get(app, `/view/v${i}`);
      expect(seriesOf(await app.scrape(), 'django_http_requests_total_by_view_transport_method_total')).toHaveLength(10);
    }],
  ])('%s=%j', async (name, raw, reason, defaultApplies) => {
    const app = await start({ [name]: raw });
    expect(await get(app, '/')).toBe(200);
    await defaultApplies(app);
    expect(app.stderr()).toBe(`${PREFIX}invalid ${name}="${raw}" (${reason}); using default\n`);
  });
});

describe('the dedicated server', () => {
  test('answers GET /metrics as text/plain; version=0.0.4; charset=utf-8 and 404 for other paths', async () => {
    const app = await start();
    const metrics = await fetch(`http://127.0.0.1:${app.metricsPort}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await metrics.text()).toContain('# TYPE django_http_requests_before_middlewares_total counter\n');
    for (const path of ['/', '/other', '/metricsx']) {
      const res = await fetch(`http://127.0.0.1:${app.metricsPort}${path}`);
      await res.text();
      expect(res.status, path).toBe(404);
    }
  });

  test('listens on PROMETHEUS_METRICS_EXPORT_PORT, besides the app', async () => {
    const app = await start();
    await until('the metrics server', () => fetch(`http://127.0.0.1:${app.metricsPort}/metrics`).then(() => true, () => false));
    expect(await listeningPorts(app.child.pid!)).toEqual([app.port, app.metricsPort].sort((a, b) => a - b));
  });

  test('PROMETHEUS_METRICS_EXPORT_PORT=off: no server at all, no log line', async () => {
    const app = await start({ PROMETHEUS_METRICS_EXPORT_PORT: 'off' });
    expect(await get(app, '/')).toBe(200);
    expect(await listeningPorts(app.child.pid!)).toEqual([app.port]);
    expect(app.stderr()).toBe('');
  });

  test('OTEL_EXPORTER_PROMETHEUS_PORT is used when PROMETHEUS_METRICS_EXPORT_PORT is unset', async () => {
    const otelPort = await freePort();
    const app = await start({ PROMETHEUS_METRICS_EXPORT_PORT: undefined, OTEL_EXPORTER_PROMETHEUS_PORT: String(otelPort) });
    await get(app, '/');
    expect(valueOf(await scrapePort(otelPort), 'django_http_requests_before_middlewares_total')).toBe(1);
    expect(await listeningPorts(app.child.pid!)).toEqual([app.port, otelPort].sort((a, b) => a - b));
  });

  test('OTEL_EXPORTER_PROMETHEUS_PORT is ignored when PROMETHEUS_METRICS_EXPORT_PORT is set', async () => {
    const otelPort = await freePort();
    const app = await start({ OTEL_EXPORTER_PROMETHEUS_PORT: String(otelPort) });
    await get(app, '/');
    expect(valueOf(await app.scrape(), 'django_http_requests_before_middlewares_total')).toBe(1);
    await refused(otelPort);
    expect(await listeningPorts(app.child.pid!)).toEqual([app.port, app.metricsPort].sort((a, b) => a - b));
  });

  test('PROMETHEUS_METRICS_EXPORT_PORT in use: one line, the app serves without the server', async () => {
    const port = await occupiedRange(1);
    const app = await start({ PROMETHEUS_METRICS_EXPORT_PORT: String(port) });
    const line = `${PREFIX}cannot listen on 127.0.0.1:${port} (in use); serving no dedicated /metrics endpoint\n`;
    await stderrHas(app, line);
    expect(await get(app, '/')).toBe(200);
    expect(app.stderr()).toBe(line);
    expect(await listeningPorts(app.child.pid!)).toEqual([app.port]);
  });
});

describe('PROMETHEUS_METRICS_EXPORT_PORT_RANGE', () => {
  test('the first port taken: the second one is used and logged', async () => {
    const first = await occupiedRange(2);
    await release(held[1]!);
    const app = await start({ PROMETHEUS_METRICS_EXPORT_PORT_RANGE: `${first}-${first + 1}` });
    const line = `${PREFIX}Exporting Prometheus /metrics/ on port ${first + 1}\n`;
    await stderrHas(app, line);
    await get(app, '/');
    expect(valueOf(await scrapePort(first + 1), 'django_http_requests_before_middlewares_total')).toBe(1);
    // The range overrides PROMETHEUS_METRICS_EXPORT_PORT.
    await refused(app.metricsPort);
    expect(app.stderr()).toBe(line);
  });

  test('every port taken: the warning, no server, and the app still serves', async () => {
    const first = await occupiedRange(2);
    const app = await start({ PROMETHEUS_METRICS_EXPORT_PORT_RANGE: `${first}-${first + 1}` });
    const line = `${PREFIX}Cannot export Prometheus /metrics/ - no available ports in supplied range\n`;
    await stderrHas(app, line);
    expect(await get(app, '/')).toBe(200);
    expect(app.stderr()).toBe(line);
    expect(await listeningPorts(app.child.pid!)).toEqual([app.port]);
  });
});

describe('PROMETHEUS_MAX_SERIES_PER_METRIC', () => {
  test('=5 with 10 views: 5 series, one otel_metric_overflow="true" series, one warning per family', async () => {
    const app = await start({ PROMETHEUS_MAX_SERIES_PER_METRIC: '5' });
    for (let round = 0; round < 2; round++) for (let i = 0; i < 10; i++) await get(app, `/view/v${i}`);
    const exp = await app.scrape();
    const firstFive = [0, 1, 2, 3, 4];
    expect(vectorOf(exp, 'django_http_requests_total_by_view_transport_method_total')).toEqual([
      ...firstFive.map((i) => `{"method":"GET","transport":"http","view":"v${i}"} 2`),
      '{"otel_metric_overflow":"true"} 10',
    ]);
    expect(vectorOf(exp, 'django_http_responses_total_by_status_view_method_total')).toEqual([
      ...firstFive.map((i) => `{"method":"GET","status":"200","view":"v${i}"} 2`),
      '{"otel_metric_overflow":"true"} 10',
    ]);
    expect(vectorOf(exp, 'django_http_requests_latency_seconds_by_view_method_count')).toEqual([
      ...firstFive.map((i) => `{"method":"GET","view":"v${i}"} 2`),
      '{"otel_metric_overflow":"true"} 10',
    ]);
    const warning = (family: string) =>
      `${PREFIX}${family} reached PROMETHEUS_MAX_SERIES_PER_METRIC=5; further label sets are counted under otel_metric_overflow="true"\n`;
    // In the order the families first overflow during the sixth view's request: route match, then completion.
    expect(app.stderr()).toBe(
      warning('django_http_requests_total_by_view_transport_method_total') +
        warning('django_http_requests_latency_seconds_by_view_method') +
        warning('django_http_responses_total_by_status_view_method_total'),
    );
  });
});

describe('PROMETHEUS_OTEL_INFO', () => {
  const otelArtefacts = (exp: Exposition) => ({
    targetInfo: exp.families.has('target_info'),
    scopeLabelled: [...new Set(exp.samples.filter((s) => Object.keys(s.labels).some((l) => l.startsWith('otel_scope_'))).map((s) => s.name))],
  });

  test('default: no target_info and no otel_scope_* labels', async () => {
    const app = await start({ OTEL_SERVICE_NAME: 'settings-fixture' });
    const exp = await app.scrape();
    expect(otelArtefacts(exp)).toEqual({ targetInfo: false, scopeLabelled: [] });
    expect(vectorOf(exp, 'fixture_user_events_total')).toEqual(['{} 1']);
  });

  test('=true: target_info, and scope labels on user metrics (never on the django families)', async () => {
    const app = await start({ PROMETHEUS_OTEL_INFO: 'true', OTEL_SERVICE_NAME: 'settings-fixture' });
    await get(app, '/');
    const exp = await app.scrape();
    expect(otelArtefacts(exp)).toEqual({ targetInfo: true, scopeLabelled: ['fixture_user_events_total'] });
    expect(exp.families.get('target_info')?.type).toBe('gauge');
    expect(exp.samples.find((s) => s.name === 'target_info')?.labels.service_name).toBe('settings-fixture');
    expect(vectorOf(exp, 'fixture_user_events_total')).toEqual(['{"otel_scope_name":"settings-fixture","otel_scope_version":"1.2.3"} 1']);
  });
});

describe('PROMETHEUS_TRUST_PROXY', () => {
  test.each([
    ['true', 'https'],
    [undefined, 'http'],
  ])('=%s: X-Forwarded-Proto: https counts as %s', async (trustProxy, transport) => {
    const app = await start({ PROMETHEUS_TRUST_PROXY: trustProxy });
    await get(app, '/', { 'X-Forwarded-Proto': 'https' });
    expect(vectorOf(await app.scrape(), 'django_http_requests_total_by_transport_total')).toEqual([`{"transport":"${transport}"} 1`]);
  });
});

describe('the bind address', () => {
  const other = '127.0.0.2';
  const bound = async (app: RunningApp) => {
    await until('the metrics server', async () => (await listening(app.child.pid!)).some((l) => l.port === app.metricsPort));
    return (await listening(app.child.pid!)).filter((l) => l.port === app.metricsPort).map((l) => l.address);
  };

  test('PROMETHEUS_METRICS_EXPORT_ADDRESS: the dedicated server listens there only', async () => {
    const app = await start({ PROMETHEUS_METRICS_EXPORT_ADDRESS: other });
    expect(await bound(app)).toEqual([other]);
    expect((await fetch(`http://${other}:${app.metricsPort}/metrics`)).status).toBe(200);
    await refused(app.metricsPort);
  });

  test('OTEL_EXPORTER_PROMETHEUS_HOST is used when PROMETHEUS_METRICS_EXPORT_ADDRESS is unset', async () => {
    const app = await start({ PROMETHEUS_METRICS_EXPORT_ADDRESS: undefined, OTEL_EXPORTER_PROMETHEUS_HOST: other });
    expect(await bound(app)).toEqual([other]);
  });

  test('neither set: all interfaces', async () => {
    const app = await start({ PROMETHEUS_METRICS_EXPORT_ADDRESS: undefined });
    // Node's "all interfaces": IPv6's (dual-stack) where the host has IPv6, else IPv4's.
    const ipv6 = Object.values(networkInterfaces()).some((addresses) => addresses?.some((a) => a.family === 'IPv6'));
    expect(await bound(app)).toEqual([ipv6 ? '::' : '0.0.0.0']);
    expect(valueOf(await scrapePort(app.metricsPort), 'django_http_requests_before_middlewares_total')).toBe(0);
  });
});

describe('PROMETHEUS_DB_ALIASES', () => {
  test('an entry with an out-of-range port: one line naming it, the entry skipped; the app serves', async () => {
    const app = await start({ PROMETHEUS_DB_ALIASES: 'replica=db:99999999/x,audit=/audit' });
    expect(await get(app, '/')).toBe(200);
    expect(app.stderr()).toBe(`${PREFIX}invalid PROMETHEUS_DB_ALIASES entry "replica=db:99999999/x" (out of range 1-65535); skipped\n`);
  });
});

describe('spans: only through a TracerProvider the app registers', () => {
  /** The spans the app's own TracerProvider (FIXTURE_TRACER=1) finished for one request to `/`. */
  async function spansOfOneRequest(env: SpawnOptions['env']): Promise<unknown> {
    const app = await start({ FIXTURE_TRACER: '1', ...env });
    await get(app, '/');
    const res = await fetch(app.url('/spans'));
    return res.json();
  }
  const SERVER_SPAN = { name: 'GET', kind: 1 };

  test('PROMETHEUS_HTTP_INSTRUMENTATION=otel: one server span per request, made by the TracerProvider the app registers', async () => {
    expect(await spansOfOneRequest({ PROMETHEUS_HTTP_INSTRUMENTATION: 'otel' })).toEqual([SERVER_SPAN]);
  });

  test('PROMETHEUS_HTTP_INSTRUMENTATION=otel without one: the package registers no TracerProvider, so no span is recorded', async () => {
    const app = await start({ PROMETHEUS_HTTP_INSTRUMENTATION: 'otel' });
    await get(app, '/');
    expect(await (await fetch(app.url('/tracer'))).text()).toBe('NoopTracerProvider');
  });

  test('PROMETHEUS_HTTP_INSTRUMENTATION=fast: no spans, even with a TracerProvider registered by the app', async () => {
    expect(await spansOfOneRequest({ PROMETHEUS_HTTP_INSTRUMENTATION: 'fast' })).toEqual([]);
  });

  test.each<[string | undefined, unknown[]]>([
    ['otlp', [SERVER_SPAN]],
    ['none', []],
    [undefined, []],
  ])('PROMETHEUS_HTTP_INSTRUMENTATION=auto with OTEL_TRACES_EXPORTER=%s: spans %j', async (exporter, spans) => {
    expect(await spansOfOneRequest({ PROMETHEUS_HTTP_INSTRUMENTATION: 'auto', OTEL_TRACES_EXPORTER: exporter })).toEqual(spans);
  });
});

describe('OTEL_SERVICE_NAME', () => {
  test('the service_name label of target_info (with PROMETHEUS_OTEL_INFO=true), and nowhere else: no log line, no other label', async () => {
    const shown = async (env: SpawnOptions['env']) => {
      const app = await start({ OTEL_SERVICE_NAME: 'checkout', ...env });
      await get(app, '/');
      const exp = await app.scrape();
      expect(app.stderr()).toBe('');
      return exp.samples.filter((s) => Object.values(s.labels).includes('checkout')).map((s) => [s.name, s.labels.service_name]);
    };
    expect(await shown({ PROMETHEUS_OTEL_INFO: 'true' })).toEqual([['target_info', 'checkout']]);
    expect(await shown({})).toEqual([]);
  });
});
