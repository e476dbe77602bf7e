// OTLP export cost at 24k series (2000 routes x 3 methods x 4 statuses, the label sets of the scrape
// phase, recorded as a routed request records them) plus the runtime families:
//  1. the real push, first in the process (its first export is as cold as an app's): the SDK's
//     PeriodicExportingMetricReader with the families' producer and OpenTelemetry's OTLP/HTTP
//     exporter (http/protobuf) to a receiver in another process, one export per forceFlush(): wall
//     and CPU time, requests and bytes, and the longest event-loop block during the export (2 ms
//     interval-timer drift);
//  2. converting the collected snapshots into OpenTelemetry metric data alone (the MetricProducer);
//  3. encoding the whole collection as one OTLP request (protobuf and JSON): one synchronous step,
//     which is why the push goes out in requests of at most BATCH_POINTS data points.
//
//   npm run build && node test/bench/otlp-export.mjs [--routes=2000] [--exports=10] [--out=test/bench/results-otlp.md | --no-write]
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SCRAPE_METHODS, SCRAPE_STATUSES, scrapeRoutes } from './apps/routes.mjs';
import { environmentInfo } from './lib/env-info.mjs';
import { loadAverage } from './lib/machine.mjs';
import { recordRoutedRequest, routedRequestFamilies } from './lib/routed-request.mjs';
import { median } from './lib/stats.mjs';
import { OURS_SCRAPE_CAP, ROOT } from './lib/variants.mjs';

const { values: flags } = parseArgs({
  options: {
    routes: { type: 'string', default: '2000' },
    exports: { type: 'string', default: '10' },
    out: { type: 'string', default: 'test/bench/results-otlp.md' },
    'no-write': { type: 'boolean', default: false },
    child: { type: 'string' },
  },
});
const log = (line) => process.stderr.write(line + '\n');
const dist = (p) => import(join(ROOT, 'dist', p));

/** The receiver, in a process of its own: reads each request whole, answers 200; GET /stats -> {requests, bytes}. */
function receiverChild() {
  let requests = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    if (req.method === 'GET') return res.end(JSON.stringify({ requests, bytes }));
    req.on('data', (c) => (bytes += c.length));
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end();
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
}

function startReceiver() {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child=receiver'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => child.stdout.once('data', (d) => resolve({ child, port: Number(String(d).trim()) })));
}

/** The longest event-loop stall while `work` runs: the drift of a 2 ms interval timer. */
async function withLongestBlock(work) {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last - 2);
    last = now;
  }, 2);
  try {
    const value = await work();
    return { value, longestBlockMs: Math.max(longest, performance.now() - last - 2) };
  } finally {
    clearInterval(timer);
  }
}

/** Wall and CPU milliseconds of `work`. */
async function timed(work) {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = await work();
  const used = process.cpuUsage(cpu);
  return { value, ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
}

async function main() {
  const started = performance.now();
  const env = environmentInfo();
  const { Registry } = await dist('src/store/registry.js');
  const { startRuntimeMetrics } = await dist('src/runtime/index.js');
  const { HTTP, DEFAULT_LATENCY_BUCKETS } = await dist('views/index.js');
  const { FamilyConverter, familyProducer } = await dist('src/otlp/producer.js');
  const { BATCH_POINTS, otlpExporter } = await dist('src/otlp/exporter.js');
  const { createMeterSdk } = await dist('src/sdk.js');
  const { EXPORT_DEFAULTS } = await dist('src/otlp/settings.js');
  const { ProtobufMetricsSerializer, JsonMetricsSerializer } = await import('@opentelemetry/otlp-transformer');
  const { emptyResource } = await import('@opentelemetry/resources');

  const registry = new Registry({ namespace: '', latencyBuckets: DEFAULT_LATENCY_BUCKETS, maxSeriesPerMetric: OURS_SCRAPE_CAP });
  const runtime = startRuntimeMetrics();
  registry.addCollector('runtime', runtime.collector);
  const f = routedRequestFamilies(registry, HTTP);
  let labelSets = 0;
  for (const { mount, path } of scrapeRoutes(Number(flags.routes))) {
    for (const method of SCRAPE_METHODS) {
      for (const status of SCRAPE_STATUSES) {
        recordRoutedRequest(f, mount + path, method, String(status), { latency: 0.002 + (labelSets % 7) * 0.0013, viewLatency: 0.0017 + (labelSets % 5) * 0.0011, responseBytes: 12 });
        labelSets++;
      }
    }
  }
  const exports = Number(flags.exports);

  // 1. The real push, first: the process's first export is cold (nothing compiled yet), as an app's is.
  const { child, port } = await startReceiver();
  const settings = { url: `http://127.0.0.1:${port}/v1/metrics`, protocol: 'http/protobuf', headers: {}, timeoutMillis: 10_000, compression: 'none' };
  const config = { serviceName: 'bench', maxSeriesPerMetric: OURS_SCRAPE_CAP, export: { ...EXPORT_DEFAULTS, intervalMillis: 3_600_000, exportTimeoutMillis: 60_000 } };
  const sdk = createMeterSdk(config, { exporter: otlpExporter(settings, log), families: familyProducer(() => registry.collect(), new FamilyConverter(Date.now())) });
  const stats = async () => (await fetch(`http://127.0.0.1:${port}/stats`)).json();
  const pushes = [];
  for (let i = 0; i < exports + 1; i++) {
    f.requestsBefore.inc();
    const before = await stats();
    const run = await withLongestBlock(() => timed(() => sdk.meterProvider.forceFlush()));
    const after = await stats();
    pushes.push({ ms: run.value.ms, cpuMs: run.value.cpuMs, longestBlockMs: run.longestBlockMs, requests: after.requests - before.requests, bytes: after.bytes - before.bytes });
  }
  await sdk.meterProvider.shutdown();
  child.kill();

  // 2. Conversion alone.
  const converter = new FamilyConverter(Date.now());
  const conversions = [];
  let metrics;
  for (let i = 0; i < exports + 1; i++) {
    f.requestsBefore.inc();
    const run = await withLongestBlock(() => timed(() => converter.convert(registry.collect())));
    metrics = run.value.value;
    conversions.push({ ms: run.value.ms, cpuMs: run.value.cpuMs, longestBlockMs: run.longestBlockMs });
  }
  const points = metrics.reduce((n, m) => n + m.dataPoints.length, 0);
  const families = metrics.length;
  log(`converted ${points} data points of ${metrics.length} families`);

  // 3. One request's encoding of everything (a single synchronous step).
  const whole = { resource: emptyResource(), scopeMetrics: [{ scope: { name: 'otel-django-metrics' }, metrics }] };
  const encodings = {};
  for (const [name, serializer] of [['protobuf', ProtobufMetricsSerializer], ['json', JsonMetricsSerializer]]) {
    const runs = [];
    let bytes = 0;
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      bytes = serializer.serializeRequest(whole).length;
      runs.push(performance.now() - start);
    }
    encodings[name] = { ms: median(runs), maxMs: Math.max(...runs), bytes };
  }

  runtime.stop();

  const text = report({ env, labelSets, points, families, conversions, encodings, pushes, batch: BATCH_POINTS, wallSec: (performance.now() - started) / 1000 });
  if (flags['no-write']) process.stdout.write(text);
  else writeFileSync(join(ROOT, flags.out), text);
}

const f1 = (x) => x.toFixed(1);

/** First run, then the median and the worst of the others (warm). */
function summary(runs, key) {
  const warm = runs.slice(1).map((r) => r[key]);
  return `${f1(runs[0][key])} | ${f1(median(warm))} | ${f1(Math.max(...warm))}`;
}

function report({ env, labelSets, points, families, conversions, encodings, pushes, batch, wallSec }) {
  const command = `node test/bench/otlp-export.mjs ${process.argv.slice(2).join(' ')}`.trim();
  const warmPushes = pushes.slice(1);
  return [
    '# OTLP export: benchmark results',
    '',
    `- Date: ${env.date}`,
    `- Node ${env.node}, ${env.platform}`,
    `- nproc ${env.nproc}, CPU: ${env.cpu}; load average ${env.loadAverage} at start, ${loadAverage()} at end`,
    `- ${env.project}; wall time of this run ${wallSec.toFixed(0)} s`,
    `- Command: \`npm run build && ${command}\``,
    '',
    `One process's store with ${labelSets} label sets (${flags.routes} routes x 3 methods x 4 statuses, recorded as a routed request records them) plus the runtime families: ${points} data points in ${families} metrics. Each run follows one increment; the first run of each kind is cold (first conversion of every series), the others warm (median and worst of ${pushes.length - 1}). Longest block = the largest event-loop stall during the run (2 ms interval-timer drift).`,
    '',
    `## The push (SDK reader, families' producer, OTLP/HTTP protobuf exporter, requests of ${batch.first}, ${batch.first * 2}, ... up to ${batch.most} data points)`,
    '',
    'One export per `forceFlush()`: collect (the SDK\'s own instruments and the families, converted in slices of at most 10 ms), cut into requests, each encoded and sent in turn, to a receiver in another process. The first export is the process\'s first: nothing of the conversion, the reader or the encoder has run before.',
    '',
    '| | first | median | worst |',
    '| --- | --- | --- | --- |',
    `| wall ms | ${summary(pushes, 'ms')} |`,
    `| CPU ms | ${summary(pushes, 'cpuMs')} |`,
    `| longest block ms | ${summary(pushes, 'longestBlockMs')} |`,
    '',
    `Per export: ${warmPushes[0].requests} requests, ${(warmPushes[0].bytes / 1024).toFixed(0)} KB of protobuf.`,
    '',
    `Goal: no export holds the event loop longer than 50 ms. Longest block of any export in this run: ${f1(Math.max(...pushes.map((p) => p.longestBlockMs)))} ms (${Math.max(...pushes.map((p) => p.longestBlockMs)) <= 50 ? 'met' : 'NOT met'}); collect + convert + encode + send of one warm export: ${f1(median(warmPushes.map((p) => p.cpuMs)))} ms of CPU for ${points} data points (${f1((median(warmPushes.map((p) => p.cpuMs)) * 1000) / points)} us each).`,
    '',
    '## Conversion (the MetricProducer: collected snapshots to OpenTelemetry metric data)',
    '',
    '| | first | median | worst |',
    '| --- | --- | --- | --- |',
    `| wall ms | ${summary(conversions, 'ms')} |`,
    `| CPU ms | ${summary(conversions, 'cpuMs')} |`,
    `| longest block ms | ${summary(conversions, 'longestBlockMs')} |`,
    '',
    '## Encoding everything as one request (why the push is cut into requests)',
    '',
    `OpenTelemetry's serializers encode a request in one synchronous step: the event loop is held for all of it.`,
    '',
    '| protocol | body KB | encode ms (median of 5) | worst ms |',
    '| --- | --- | --- | --- |',
    ...Object.entries(encodings).map(([name, e]) => `| ${name} | ${(e.bytes / 1024).toFixed(0)} | ${f1(e.ms)} | ${f1(e.maxMs)} |`),
    '',
    '',
  ].join('\n');
}

if (flags.child === 'receiver') receiverChild();
else {
  await main();
  process.exit(0);
}
