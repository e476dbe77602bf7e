// OpenMetrics scrape cost at 24k series (the scrape phase's setup: 2000 routes x 3 methods x 4
// statuses through our preload's fast path, every series kept), against the Prometheus 0.0.4 text
// of the same server process. One server process (lib/traced-app.mjs: the bench app in an app that
// traces) goes through two stages:
//  1. every label set driven once under no span: the 0.0.4 text and OpenMetrics without
//     exemplars, each plain and gzipped;
//  2. every label set driven once more, each request under a sampled span of its own, so every
//     series of the families that carry exemplars has one: the 0.0.4 text again (it has no
//     exemplars: the bridge between the stages) and OpenMetrics with exemplars, plain and gzipped.
// Within a stage the scrapes are interleaved: each round scrapes every kind once, in an order
// rotated each round, after one discarded scrape of each kind. Ratios are taken against the plain
// or gzipped text scrape of the same round, so that a machine slowing down between rounds or
// stages cancels out; before each round it waits up to --settle s for the rest of the machine to go
// quiet. The results file's closing "Reading" paragraph is written by hand.
//
//   npm run build && node test/bench/openmetrics-scrape.mjs [--routes=2000] [--rounds=15] [--settle=2] [--out=test/bench/results-openmetrics.md | --no-write]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { scrapeRequests } from './apps/routes.mjs';
import { environmentInfo } from './lib/env-info.mjs';
import { driveRequests } from './lib/http.mjs';
import { loadAverage, machineBusyMs, waitForQuiet } from './lib/machine.mjs';
import { getPinning, installCleanup, killAll } from './lib/procs.mjs';
import { PROMETHEUS_OPENMETRICS_ACCEPT, scrapeOnce } from './lib/scrape-once.mjs';
import { startServer } from './lib/server.mjs';
import { fmt, median } from './lib/stats.mjs';
import { ROOT, VARIANTS } from './lib/variants.mjs';
import { withServer } from './phases/guard.mjs';

const { values: flags } = parseArgs({
  options: {
    routes: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '15' },
    settle: { type: 'string', default: '2' },
    out: { type: 'string', default: 'test/bench/results-openmetrics.md' },
    'no-write': { type: 'boolean', default: false },
  },
});
const routes = Number(flags.routes);
const rounds = Number(flags.rounds);
const settleSec = Number(flags.settle);
if (!(routes >= 1 && rounds >= 1 && settleSec >= 0)) throw new Error('--routes and --rounds need numbers >= 1, --settle one >= 0');

const log = (line) => process.stderr.write(line + '\n');

const fast = VARIANTS.find((v) => v.name === 'ours-fast');
/** Our fast path, every series kept (the scrape phase's variant), serving the traced app. */
const VARIANT = { ...fast, name: 'ours-fast-traced', app: '../lib/traced-app.mjs' };

const TEXT_CONTENT_TYPE = /^text\/plain; version=0\.0\.4/;
const OPENMETRICS_CONTENT_TYPE = /^application\/openmetrics-text; version=1\.0\.0/;

const kind = (name, label, accept, gzip) => ({ name, label, accept, gzip, format: accept === undefined ? TEXT_CONTENT_TYPE : OPENMETRICS_CONTENT_TYPE });
const STAGES = [
  {
    name: 'untraced', traced: false, kinds: [
      kind('text', '0.0.4 text (no Accept)', undefined, false),
      kind('text-gzip', '0.0.4 text, gzip', undefined, true),
      kind('om', 'OpenMetrics, no exemplars', PROMETHEUS_OPENMETRICS_ACCEPT, false),
      kind('om-gzip', 'OpenMetrics, no exemplars, gzip', PROMETHEUS_OPENMETRICS_ACCEPT, true),
    ],
  },
  {
    name: 'traced', traced: true, kinds: [
      kind('text', '0.0.4 text (no Accept), after the traced traffic', undefined, false),
      kind('text-gzip', '0.0.4 text, gzip, after the traced traffic', undefined, true),
      kind('om', 'OpenMetrics, exemplar on every series', PROMETHEUS_OPENMETRICS_ACCEPT, false),
      kind('om-gzip', 'OpenMetrics, exemplar on every series, gzip', PROMETHEUS_OPENMETRICS_ACCEPT, true),
    ],
  },
];

/** The sample names whose series carry exemplars: both latency histograms' buckets and the two per-view counters. */
async function exemplarSampleNames() {
  const { HTTP } = await import(join(ROOT, 'dist/views/index.js'));
  return new Set([
    `${HTTP.latencyIncludingMiddlewares.name}_bucket`, `${HTTP.latencyByViewMethod.name}_bucket`,
    HTTP.requestsByViewTransportMethod.name, HTTP.responsesByStatusViewMethod.name,
  ]);
}

/**
 * Of the series of those sample names (a histogram's series: its buckets, `le` aside), how many
 * there are and how many have an exemplar; and the exemplars in the whole body.
 */
function exemplarCoverage(body, names) {
  const series = new Map();
  let exemplars = 0;
  for (const line of body.split('\n')) {
    if (!line || line[0] === '#') continue;
    const at = line.indexOf(' # {');
    if (at >= 0) exemplars++;
    const name = line.slice(0, line.search(/[{ ]/));
    if (!names.has(name)) continue;
    const sample = at >= 0 ? line.slice(0, at) : line;
    const key = sample.slice(0, sample.lastIndexOf(' ')).replace(/,?le="[^"]*"/, '');
    series.set(key, (series.get(key) ?? false) || at >= 0);
  }
  return { series: series.size, covered: [...series.values()].filter(Boolean).length, exemplars };
}

/** One scrape of `k`, checked: the format and encoding asked for, exemplars only where they belong. */
async function scrapeKind(server, k, stage, names) {
  const r = await scrapeOnce(server, { accept: k.accept, gzip: k.gzip });
  if (!k.format.test(r.contentType)) throw new Error(`${stage.name} ${k.name}: Content-Type ${r.contentType}`);
  if (r.encoding !== (k.gzip ? 'gzip' : 'identity')) throw new Error(`${stage.name} ${k.name}: Content-Encoding ${r.encoding}`);
  const coverage = exemplarCoverage(r.body, names);
  const withExemplars = stage.traced && k.accept !== undefined;
  if (withExemplars ? coverage.covered !== coverage.series : coverage.exemplars !== 0) {
    throw new Error(`${stage.name} ${k.name}: ${coverage.exemplars} exemplars, ${coverage.covered} of ${coverage.series} series covered`);
  }
  delete r.body; // 15-20 MB each: keep the figures only
  return { ...r, ...coverage };
}

/** CPU the rest of the machine used while `work` ran, in % of one core (null where unknown). */
async function otherProcessesPct(server, work) {
  const busy0 = machineBusyMs();
  const { cpu: server0 } = await server.snapshot();
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await work();
  const wall = performance.now() - t0;
  const self = process.cpuUsage(self0);
  const { cpu: server1 } = await server.snapshot();
  const serverMs = (server1.user - server0.user + server1.system - server0.system) / 1000;
  const otherMs = busy0 === null ? NaN : machineBusyMs() - busy0 - serverMs - (self.user + self.system) / 1000;
  return { value, otherPct: (Math.max(0, otherMs) / wall) * 100 };
}

async function runStage(server, stage, names) {
  const requests = scrapeRequests(routes).map((r) => (stage.traced ? { ...r, path: `${r.path}?trace=sampled` } : r));
  const t0 = performance.now();
  await driveRequests(server.port, requests);
  const driveSec = (performance.now() - t0) / 1000;
  // The first scrape of each kind after new traffic renders what is new; not timed.
  for (const k of stage.kinds) await scrapeKind(server, k, stage, names);
  const perRound = [];
  const otherPct = [];
  let settledMs = 0;
  for (let i = 0; i < rounds; i++) {
    settledMs += (await waitForQuiet({ maxMs: settleSec * 1000 })).waitedMs;
    const measured = await otherProcessesPct(server, async () => {
      const round = {};
      for (let j = 0; j < stage.kinds.length; j++) {
        const k = stage.kinds[(i + j) % stage.kinds.length];
        round[k.name] = await scrapeKind(server, k, stage, names);
      }
      return round;
    });
    perRound.push(measured.value);
    otherPct.push(measured.otherPct);
  }
  server.assertAlive();
  log(`  ${stage.name}: ${requests.length} requests driven in ${driveSec.toFixed(1)} s; ${rounds} rounds, `
    + `other processes ${spread(otherPct, 0)}% of a core, ${(settledMs / 1000).toFixed(1)} s waited for quiet`);
  return { stage, requests: requests.length, driveSec, perRound, otherPct, settledSec: settledMs / 1000 };
}

/** Median and range of `xs`, as `median (min-max)`. */
function spread(xs, digits) {
  return `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}-${fmt(Math.max(...xs), digits)})`;
}

/** Figures of one kind of one stage over its rounds, with ratios to the text scrape of the same round and encoding. */
function summarise(result, k) {
  const runs = result.perRound.map((round) => round[k.name]);
  const text = result.perRound.map((round) => round[k.gzip ? 'text-gzip' : 'text']);
  const pick = (key) => runs.map((r) => r[key]);
  const ms = median(pick('ms'));
  const lines = median(pick('lines'));
  return {
    k, ms, lines,
    msSpread: spread(pick('ms'), 1),
    cpuSpread: spread(pick('serverCpuMs'), 1),
    msRatios: runs.map((r, i) => r.ms / text[i].ms),
    cpuRatios: runs.map((r, i) => r.serverCpuMs / text[i].serverCpuMs),
    usPerLine: (ms * 1000) / lines,
    bytes: median(pick('bytes')),
    wireBytes: median(pick('wireBytes')),
    exemplars: median(pick('exemplars')),
    covered: `${median(pick('covered'))}/${median(pick('series'))}`,
    blockSpread: spread(pick('maxBlockMs'), 1),
    cpuWaitMs: median(pick('cpuWaitMs')),
  };
}

function report({ env, pinning, results, wallSec }) {
  const command = `node test/bench/openmetrics-scrape.mjs ${process.argv.slice(2).join(' ')}`.trim();
  const row = (cells) => `| ${cells.join(' | ')} |`;
  const ratio = (s, key) => (s.k.name.startsWith('text') ? '-' : spread(s[key], 2));
  const summaries = results.map((r) => r.stage.kinds.map((k) => summarise(r, k)));
  const rows = results.flatMap((r, i) => summaries[i].map((s) => row([
    s.k.label, fmt(s.lines), fmt(s.exemplars), fmt(s.bytes / 1024), fmt(s.wireBytes / 1024), s.msSpread, ratio(s, 'msRatios'),
    fmt(s.usPerLine, 2), s.cpuSpread, ratio(s, 'cpuRatios'), s.blockSpread, fmt(s.cpuWaitMs, 1),
  ])));
  const byName = (stage, name) => summaries[stage].find((s) => s.k.name === name);
  const om = byName(0, 'om');
  const omEx = byName(1, 'om');
  const omExGzip = byName(1, 'om-gzip');
  const worstBlock = Math.max(...results.flatMap((r) => r.perRound.flatMap((round) => Object.values(round).map((x) => x.maxBlockMs))));
  return [
    '# OpenMetrics scrape: benchmark results',
    '',
    `- Date: ${env.date}`,
    `- Node ${env.node}, ${env.platform}`,
    `- nproc ${env.nproc}, CPU: ${env.cpu}; load average ${env.loadAverage} at start, ${loadAverage()} at end`,
    `- CPU pinning: ${pinning.enabled ? pinning.reason : `off (${pinning.reason})`}`,
    `- ${env.project}; wall time of this run ${fmt(wallSec)} s`,
    `- Command: \`npm run build && ${command}\``,
    '',
    `One server process: the bench's express app under our preload (fast path, every series kept), in an app that registers a context manager `
      + `(AsyncLocalStorage) and a TracerProvider sampling every span. ${routes} routes x 3 methods x 4 statuses = ${results[0].requests} label sets, `
      + `driven once under no span (first four rows), then once more with each request answered inside a sampled span of its own (last four rows), `
      + `which gives every series of the two latency histograms and the two per-view counters an exemplar (trace_id, span_id). `
      + `After each drive, one discarded scrape of each kind, then ${rounds} rounds, each scraping every kind once in an order rotated each round. `
      + `OpenMetrics is asked for with the Accept header Prometheus 2.x sends; gzip with \`Accept-Encoding: gzip\`, decompressed as it arrives, as a scraper does. `
      + `Ranges are medians with the lowest and highest round.`,
    '',
    `- lines = sample lines (comments and \`# EOF\` excluded); exemplars = sample lines carrying one `
      + `(${omEx.covered} series of the four exemplar-carrying families covered in the traced stage); body KB decoded, wire KB as sent.`,
    `- wall ms = request to last decoded byte; us per line = median wall ms / lines; server CPU ms = the server process's CPU time across the scrape.`,
    `- vs text = the ratio to the 0.0.4 text scrape of the same round and the same encoding (plain to plain, gzip to gzip).`,
    `- longest block = the largest event-loop stall inside the server during the scrape (2 ms interval-timer drift); `
      + `CPU wait = how long the server waited for a CPU during it (schedstat): a block no longer than the wait is the machine's, not the server's.`,
    `- Other processes used ${spread(results[0].otherPct, 0)}% of one core during the untraced rounds and ${spread(results[1].otherPct, 0)}% during the traced ones `
      + `(machine busy time less the server's and the harness's, per round); before each round the harness waited up to ${settleSec} s for the rest `
      + `of the machine to go quiet (${fmt(results[0].settledSec + results[1].settledSec)} s in all).`,
    '',
    row(['scrape', 'lines', 'exemplars', 'body KB', 'wire KB', 'wall ms', 'wall vs text', 'us per line', 'server CPU ms', 'CPU vs text', 'longest block ms', 'CPU wait ms']),
    row(Array(12).fill('---')),
    ...rows,
    '',
    `Exemplars' cost, as the ratio of the two stages' ratios to their own text: OpenMetrics with exemplars / without, `
      + `wall ${fmt(median(omEx.msRatios) / median(om.msRatios), 2)}, server CPU ${fmt(median(omEx.cpuRatios) / median(om.cpuRatios), 2)}; `
      + `body ${fmt(omEx.bytes / om.bytes, 2)}x, gzipped on the wire ${fmt(omExGzip.wireBytes / byName(0, 'om-gzip').wireBytes, 2)}x. `
      + `Longest event-loop block of any timed scrape: ${fmt(worstBlock, 1)} ms.`,
    '',
  ].join('\n');
}

async function main() {
  const started = performance.now();
  installCleanup();
  const env = environmentInfo(); // before pinning: nproc must describe the machine, not our affinity
  const pinning = getPinning();
  const names = await exemplarSampleNames();
  const serverEnv = { BENCH_ROUTES: String(routes), ...VARIANT.scrapeEnv };
  const results = await withServer(() => startServer(VARIANT, { env: serverEnv }), async (server) => {
    const out = [];
    for (const stage of STAGES) out.push(await runStage(server, stage, names));
    return out;
  });
  const text = report({ env, pinning, results, wallSec: (performance.now() - started) / 1000 });
  if (flags['no-write']) process.stdout.write(text);
  else {
    writeFileSync(join(ROOT, flags.out), text);
    log(`wrote ${flags.out}`);
  }
}

main().then(
  () => { killAll(); process.exit(0); },
  (err) => { console.error(err); killAll(); process.exit(1); },
);
