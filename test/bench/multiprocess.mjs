// Multi-process mode (PROMETHEUS_MULTIPROC_DIR) costs:
//  1. a merged scrape at 2 and 4 processes x 24k series (2000 routes x 3 methods x 4 statuses
//     driven into each process): scrape time, bytes, and the longest event-loop block in the
//     serving process (a 2 ms interval timer's drift, as the scrape phase of run.mjs measures it);
//  2. publication at 24k series: one publishNow (collect, encode, write, rename), and the state's size;
//  3. per-request server CPU of one process with dir mode on vs off, interleaved rounds in one run.
//
//   npm run build && node test/bench/multiprocess.mjs [--routes=2000] [--scrapes=5] [--rounds=6]
//     [--duration=4] [--warmup=2] [--connections=32] [--settle=5] [--out=test/bench/results-multiprocess.md | --no-write]
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { SCRAPE_METHODS, SCRAPE_STATUSES, scrapeRequests, scrapeRoutes } from './apps/routes.mjs';
import { environmentInfo } from './lib/env-info.mjs';
import { driveRequests, fetchText } from './lib/http.mjs';
import { loadAverage } from './lib/machine.mjs';
import { recordRoutedRequest, routedRequestFamilies } from './lib/routed-request.mjs';
import { fileURLToPath } from 'node:url';
import { getPinning, killAll, spawnNode } from './lib/procs.mjs';
import { startServer } from './lib/server.mjs';
import { median } from './lib/stats.mjs';
import { OUR_PRELOAD, OURS_SCRAPE_CAP, ROOT } from './lib/variants.mjs';
import { throughputPhase } from './phases/throughput.mjs';

const { values: flags } = parseArgs({
  options: {
    routes: { type: 'string', default: '2000' },
    scrapes: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '6' },
    duration: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
    settle: { type: 'string', default: '5' },
    out: { type: 'string', default: 'test/bench/results-multiprocess.md' },
    'no-write': { type: 'boolean', default: false },
    child: { type: 'string' },
  },
});
const opts = {
  routes: Number(flags.routes),
  scrapes: Number(flags.scrapes),
  rounds: Number(flags.rounds),
  durationSec: Number(flags.duration),
  warmupSec: Number(flags.warmup),
  connections: Number(flags.connections),
  settleSec: Number(flags.settle),
};
const log = (line) => process.stderr.write(line + '\n');

/** Our preload on the bench's express app, every series kept (as the scrape phase of run.mjs runs it). */
const OURS = {
  name: 'ours', app: 'bare.mjs', preload: OUR_PRELOAD, metricsPortEnv: 'PROMETHEUS_METRICS_EXPORT_PORT',
  env: { PROMETHEUS_HTTP_INSTRUMENTATION: 'fast', PROMETHEUS_METRICS_EXPORT_ADDRESS: '127.0.0.1', PROMETHEUS_MAX_SERIES_PER_METRIC: String(OURS_SCRAPE_CAP) },
};

// ---- 1. merged scrape --------------------------------------------------------------------------

async function scrapeOnce(server) {
  const waitBefore = server.cpuWaitMs();
  await server.control('loop-start');
  const res = await fetchText(server.metricsUrl);
  const { maxBlockMs } = await server.control('loop-stop');
  if (res.status !== 200) throw new Error(`GET ${server.metricsUrl}: HTTP ${res.status}`);
  let lines = 0;
  for (const line of res.body.split('\n')) if (line && line[0] !== '#') lines++;
  const requests = Number(/^django_http_requests_before_middlewares_total (\S+)$/m.exec(res.body)?.[1]);
  return { ms: res.ms, bytes: Buffer.byteLength(res.body), lines, maxBlockMs, cpuWaitMs: server.cpuWaitMs() - waitBefore, requests };
}

async function mergedScrape(processes) {
  const dir = mkdtempSync(join(tmpdir(), 'odm-bench-multiproc-'));
  const servers = [];
  try {
    for (let i = 0; i < processes; i++) servers.push(await startServer(OURS, { env: { BENCH_ROUTES: String(opts.routes), PROMETHEUS_MULTIPROC_DIR: dir } }));
    const requests = scrapeRequests(opts.routes);
    const t0 = performance.now();
    for (const server of servers) await driveRequests(server.port, requests);
    const driveSec = (performance.now() - t0) / 1000;
    // Every process publishes what it recorded within a second.
    await new Promise((r) => setTimeout(r, 2000));
    const serving = servers[0];
    const first = await scrapeOnce(serving);
    const runs = [];
    for (let i = 0; i < opts.scrapes; i++) runs.push(await scrapeOnce(serving));
    for (const server of servers) server.assertAlive();
    const expected = processes * requests.length;
    if (![first, ...runs].every((r) => r.requests === expected)) throw new Error(`merged requests ${[first, ...runs].map((r) => r.requests)} != ${expected}`);
    const blocked = [first, ...runs].reduce((a, b) => (b.maxBlockMs > a.maxBlockMs ? b : a));
    const stateBytes = readdirSync(dir).filter((n) => /^\d+-\d+\.state$/.test(n)).map((n) => statSync(join(dir, n)).size);
    return {
      processes,
      series: requests.length,
      driveSec,
      firstMs: first.ms,
      ms: median(runs.map((r) => r.ms)),
      minMs: Math.min(...runs.map((r) => r.ms)),
      lines: median(runs.map((r) => r.lines)),
      bytes: median(runs.map((r) => r.bytes)),
      maxBlockMs: blocked.maxBlockMs,
      blockedCpuWaitMs: blocked.cpuWaitMs,
      blocks: [first, ...runs].map((r) => r.maxBlockMs),
      stateBytes: median(stateBytes),
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- 2. publication ----------------------------------------------------------------------------

/** The publication measurement in its own process on the server's core, as a server would publish. */
function publication(routes) {
  const child = spawnNode('server', [fileURLToPath(import.meta.url), '--child=publication', `--routes=${routes}`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`publication child exited with ${code}`)))));
}

async function publicationChild() {
  const dist = (p) => import(join(ROOT, 'dist', p));
  const { Registry } = await dist('src/store/registry.js');
  const { startRuntimeMetrics } = await dist('src/runtime/index.js');
  const { startPublisher } = await dist('src/cluster/publisher.js');
  const { HTTP, DEFAULT_LATENCY_BUCKETS } = await dist('views/index.js');
  const registry = new Registry({ namespace: '', latencyBuckets: DEFAULT_LATENCY_BUCKETS, maxSeriesPerMetric: OURS_SCRAPE_CAP });
  const runtime = startRuntimeMetrics();
  registry.addCollector('runtime', runtime.collector);
  // The families one routed request records, per label set of the scrape phase.
  const f = routedRequestFamilies(registry, HTTP);
  let labelSets = 0;
  for (const { mount, path } of scrapeRoutes(opts.routes)) {
    for (const method of SCRAPE_METHODS) {
      for (const status of SCRAPE_STATUSES) {
        recordRoutedRequest(f, mount + path, method, String(status), {
          latency: 0.002 + (labelSets % 7) * 0.0013,
          viewLatency: 0.0017 + (labelSets % 5) * 0.0011,
          responseBytes: 12,
        });
        labelSets++;
      }
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'odm-bench-publish-'));
  try {
    const publisher = startPublisher(registry, dir, { intervalMs: 3_600_000, refreshMs: 3_600_000 });
    const times = [];
    const cpu = [];
    const first = performance.now();
    publisher.publishNow();
    times.push(performance.now() - first);
    // Then warm (the JIT done with this code), as a long-running process publishes.
    for (let i = 0; i < 50; i++) {
      f.requestsBefore.inc();
      publisher.publishNow();
    }
    for (let i = 0; i < 30; i++) {
      f.requestsBefore.inc();
      const c = process.cpuUsage();
      const t = performance.now();
      publisher.publishNow();
      times.push(performance.now() - t);
      const { user, system } = process.cpuUsage(c);
      cpu.push((user + system) / 1000);
    }
    publisher.stop();
    runtime.stop();
    const [file] = readdirSync(dir).filter((n) => n.endsWith('.state'));
    // The first write also builds the string table and label indexes; later ones reuse them.
    return {
      labelSets,
      firstMs: times[0],
      medianMs: median(times.slice(1)),
      minMs: Math.min(...times.slice(1)),
      maxMs: Math.max(...times.slice(1)),
      cpuMs: median(cpu),
      bytes: statSync(join(dir, file)).size,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- 3. per-request CPU, dir mode on vs off ----------------------------------------------------

async function perRequest() {
  const dir = mkdtempSync(join(tmpdir(), 'odm-bench-dirmode-'));
  try {
    const variants = [
      { ...OURS, name: 'dir-off', env: { ...OURS.env } },
      { ...OURS, name: 'dir-on', env: { ...OURS.env, PROMETHEUS_MULTIPROC_DIR: dir } },
    ];
    const failures = [];
    const rounds = await throughputPhase(variants, opts, failures, log);
    if (failures.length) throw new Error(failures.map((f) => `${f.variant}: ${f.message}`).join('; '));
    const per = (name, key) => rounds.map((r) => r[name]?.[key]).filter((x) => x !== undefined);
    const diffs = rounds.filter((r) => r['dir-on'] && r['dir-off']).map((r) => r['dir-on'].cpuPerReq - r['dir-off'].cpuPerReq);
    const ratios = rounds.filter((r) => r['dir-on'] && r['dir-off']).map((r) => r['dir-on'].cpuPerReq / r['dir-off'].cpuPerReq);
    return {
      rounds: rounds.length,
      repeated: rounds.repeated,
      off: per('dir-off', 'cpuPerReq'),
      on: per('dir-on', 'cpuPerReq'),
      offRps: per('dir-off', 'rps'),
      onRps: per('dir-on', 'rps'),
      other: [...per('dir-off', 'otherPct'), ...per('dir-on', 'otherPct')],
      diffs,
      ratios,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- report ------------------------------------------------------------------------------------

const f1 = (x) => x.toFixed(1);
const f2 = (x) => x.toFixed(2);
const signed2 = (x) => `${x >= 0 ? '+' : ''}${f2(x)}`;

function report({ env, pinning, loadEnd, wallSec, scrapes, publish, small, cpu }) {
  // Dir mode adds no work per request (the store's change counter is there either way): only one
  // publication per second while the store changes, spread over that second's requests.
  const amortized = (p) => (p.cpuMs * 1000) / median(cpu.onRps);
  const command = `node test/bench/multiprocess.mjs ${process.argv.slice(2).join(' ')}`.trim();
  const out = [
    '# Multi-process mode (PROMETHEUS_MULTIPROC_DIR): benchmark results',
    '',
    `- Date: ${env.date}`,
    `- Node ${env.node}, ${env.platform}`,
    `- nproc ${env.nproc}, CPU: ${env.cpu}; load average ${env.loadAverage} at start, ${loadEnd} at end`,
    `- CPU pinning: ${pinning.reason}`,
    `- ${env.project}; wall time of this run ${wallSec.toFixed(0)} s`,
    `- Command: \`npm run build && ${command}\``,
    '',
    '## Merged scrape',
    `N processes of the bench's express app (\`test/bench/apps/bare.mjs\`) with the preload and one PROMETHEUS_MULTIPROC_DIR, PROMETHEUS_MAX_SERIES_PER_METRIC=${OURS_SCRAPE_CAP}; ${opts.routes} routes x 3 methods x 4 statuses driven once into each process; then, 2 s later (every process has published), one first scrape and ${opts.scrapes} timed scrapes of the first process's dedicated port (medians), each checked to hold exactly N x the driven requests. Longest block = the largest event-loop stall inside the serving process (2 ms interval-timer drift) during any of those scrapes; CPU wait = how long it waited for a CPU during that scrape (a block no longer than that is the shared machine's). A merged scrape collects: the serving process's own publication, reading and parsing every state file, the merge (whose table is also what keeps counters from going down), and the text.`,
    '',
    '| processes | label sets driven per process | state file per process KB | exposition lines | body KB | first scrape ms | scrape ms (median) | fastest ms | longest loop block ms | CPU wait in that scrape ms | blocks per scrape ms |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...scrapes.map((s) => `| ${s.processes} | ${s.series} | ${(s.stateBytes / 1024).toFixed(0)} | ${s.lines} | ${(s.bytes / 1024).toFixed(0)} | ${f1(s.firstMs)} | ${f1(s.ms)} | ${f1(s.minMs)} | ${f1(s.maxBlockMs)} | ${f1(s.blockedCpuWaitMs)} | ${s.blocks.map(f1).join(' / ')} |`),
    '',
    '## Publication',
    `One process's state with the ${publish.labelSets} label sets above recorded in the store (the families a routed request records) plus the runtime families: \`publishNow()\` (collect, encode, write a temporary file, rename), in a process of its own on the server's core: the first write (which also builds the string table and the label indexes later ones reuse), then, after 50 warm-up writes, 30 timed writes after one increment each. Wall time is how long the event loop is held; CPU time is the process's own (wall time above it is time spent waiting for the CPU or the disk).`,
    '',
    '| label sets | state file KB | first publishNow ms | publishNow ms (median of 30) | fastest ms | slowest ms | CPU ms (median) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...[publish, small].map((p) => `| ${p.labelSets} | ${(p.bytes / 1024).toFixed(0)} | ${f1(p.firstMs)} | ${f1(p.medianMs)} | ${f1(p.minMs)} | ${f1(p.maxMs)} | ${f2(p.cpuMs)} |`),
    '',
    '## Per-request CPU, dir mode on vs off',
    `One process of the bench's express app with the preload, PROMETHEUS_MULTIPROC_DIR set (dir-on: it publishes every second while traffic changes its store) or not (dir-off); ${cpu.rounds} interleaved rounds, order rotated each round, each run ${opts.warmupSec} s warm-up then ${opts.durationSec} s measured at ${opts.connections} connections of the usual mix (7x \`/api/items/:id\`, \`/health\`, one 404); a run during which the machine ran over 25% slower than its best was run again (${cpu.repeated} in this run). Server CPU microseconds per request; added = dir-on minus dir-off of the same round.`,
    '',
    '| round | dir-off us/req | dir-on us/req | added us/req | ratio | dir-off req/s | dir-on req/s |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...cpu.diffs.map((d, i) => `| ${i + 1} | ${f1(cpu.off[i])} | ${f1(cpu.on[i])} | ${d >= 0 ? '+' : ''}${f2(d)} | ${f2(cpu.ratios[i])} | ${cpu.offRps[i].toFixed(0)} | ${cpu.onRps[i].toFixed(0)} |`),
    `| **median** | **${f1(median(cpu.off))}** | **${f1(median(cpu.on))}** | **${median(cpu.diffs) >= 0 ? '+' : ''}${f2(median(cpu.diffs))}** | **${f2(median(cpu.ratios))}** | ${median(cpu.offRps).toFixed(0)} | ${median(cpu.onRps).toFixed(0)} |`,
    '',
    `Other processes used a median ${f1(median(cpu.other))}% of one core during these runs (worst ${f1(Math.max(...cpu.other))}%). What dir mode adds is one publication per second while the store changes (the store's change counter is incremented with or without it), spread over that second's requests: at the dir-on median of ${median(cpu.onRps).toFixed(0)} req/s, ${f2(amortized(small))} us per request for this mix's small state (${small.labelSets} label sets, ${f2(small.cpuMs)} ms CPU per publication above), ${f2(amortized(publish))} us if the process held ${publish.labelSets} label sets.`,
    '',
    '## Goals',
    ...scrapes.map((s) => `- Merged scrape at ${s.processes} x ${s.series} series: longest event-loop block ${f1(s.maxBlockMs)} ms (goal: at most 50 ms): ${s.maxBlockMs <= 50 ? 'met' : 'NOT met'}`),
    `- Publication of ${publish.labelSets} label sets: median ${f1(publish.medianMs)} ms, slowest ${f1(publish.maxMs)} ms of blocking (goal: well under 20 ms): ${publish.maxMs < 20 ? 'met' : 'NOT met'}`,
    `- Per request, dir mode on vs off (goal: at most +1 us): the one thing dir mode adds, its publication, costs ${f2(amortized(small))} us per request amortized: ${amortized(small) <= 1 ? 'met' : 'NOT met'}. `
      + `Measured directly: ${signed2(median(cpu.diffs))} us (ratio ${f2(median(cpu.ratios))}), the median of paired rounds whose differences range ${signed2(Math.min(...cpu.diffs))} to ${signed2(Math.max(...cpu.diffs))} us: ${median(cpu.diffs) <= 1 ? 'met' : 'a spread this wide cannot resolve 1 us'}.`,
    '',
  ];
  return out.join('\n');
}

async function main() {
  const started = performance.now();
  const env = environmentInfo();
  const pinning = getPinning();
  log(`pinning: ${pinning.reason}`);
  const publish = await publication(opts.routes);
  log(`publication: ${publish.labelSets} label sets, ${publish.bytes} bytes, first ${f1(publish.firstMs)} ms, median ${f1(publish.medianMs)} ms (CPU ${f1(publish.cpuMs)} ms), slowest ${f1(publish.maxMs)} ms`);
  // The state of a process under the throughput mix is this small: a route or two, few statuses.
  const small = await publication(1);
  log(`publication, small state: ${small.labelSets} label sets, ${small.bytes} bytes, median ${f1(small.medianMs)} ms (CPU ${f1(small.cpuMs)} ms)`);
  const scrapes = [];
  for (const processes of [2, 4]) {
    const s = await mergedScrape(processes);
    scrapes.push(s);
    log(`merged scrape, ${processes} processes: ${s.lines} lines, ${s.bytes} bytes, ${f1(s.ms)} ms (first ${f1(s.firstMs)}), block ${f1(s.maxBlockMs)} ms (cpu wait ${f1(s.blockedCpuWaitMs)} ms), drive ${f1(s.driveSec)} s`);
  }
  const cpu = await perRequest();
  log(`per request: dir-off ${f1(median(cpu.off))} us, dir-on ${f1(median(cpu.on))} us, added ${f2(median(cpu.diffs))} us, ratio ${f2(median(cpu.ratios))}`);
  const text = report({ env, pinning, loadEnd: loadAverage(), wallSec: (performance.now() - started) / 1000, scrapes, publish, small, cpu });
  if (flags['no-write']) process.stdout.write(text);
  else writeFileSync(join(ROOT, flags.out), text);
}

if (flags.child === 'publication') {
  process.stdout.write(JSON.stringify(await publicationChild()));
} else {
  try {
    await main();
  } finally {
    killAll();
  }
  process.exit(0);
}
