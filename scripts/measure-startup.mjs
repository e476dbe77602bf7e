// Startup cost of the preload: spawn-to-listening time of a tiny node:http app, bare vs with
// `--import dist/register.js` (fast HTTP path) vs the same with PROMETHEUS_HTTP_INSTRUMENTATION=otel,
// for a CommonJS and an ESM app. Variants run interleaved (one of each per round, in a rotating
// order) so load from other processes spreads evenly; the first round is a discarded warm-up.
//
//   npm run build && node scripts/measure-startup.mjs [--rounds 21] [--scrape] [--json] [--express]
//       [--register [label=]path/to/register.js ...]
//
// Each app also prints the CPU time it has used by then (all threads, so the ESM loader's worker
// counts): on a busy machine it is less skewed than wall time. --scrape also times spawn to the
// first answered scrape, which includes any work the preload defers until the app is up.
// --express adds an ESM express 5 app: the preload then also loads its express instrumentation.
// --register may be given several times to compare builds (e.g. a copy built from HEAD) in one run.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '../test/bench/lib/free-port.mjs';

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '21' },
    scrape: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    express: { type: 'boolean', default: false },
    register: { type: 'string', multiple: true, default: [fileURLToPath(new URL('../dist/register.js', import.meta.url))] },
  },
});
const ROUNDS = Number(opts.rounds);
const PRELOADS = opts.register.map((arg, i) => {
  const [label, path] = arg.includes('=') ? arg.split('=', 2) : [opts.register.length > 1 ? `r${i + 1}` : '', arg];
  return { label, path: resolve(path) };
});

const SERVER = `server.listen(0, '127.0.0.1', () => {
  const { user, system } = process.cpuUsage();
  console.log('listening ' + server.address().port + ' ' + (user + system));
});`;
// The apps are written to a temporary directory: express is imported by its absolute URL.
const EXPRESS_URL = pathToFileURL(createRequire(import.meta.url).resolve('express')).href;
const APPS = {
  cjs: { file: 'app.cjs', source: `const { createServer } = require('node:http');\nconst server = createServer((req, res) => res.end('ok'));\n${SERVER}\n` },
  esm: { file: 'app.mjs', source: `import { createServer } from 'node:http';\nconst server = createServer((req, res) => res.end('ok'));\n${SERVER}\n` },
  ...(opts.express && {
    express: { file: 'express.mjs', source: `import express from '${EXPRESS_URL}';\nconst server = express().get('/', (req, res) => res.send('ok')).listen(0, '127.0.0.1', () => {\n  const { user, system } = process.cpuUsage();\n  console.log('listening ' + server.address().port + ' ' + (user + system));\n});\n` },
  }),
};
const MODES = {
  fast: { PROMETHEUS_HTTP_INSTRUMENTATION: 'fast' },
  otel: { PROMETHEUS_HTTP_INSTRUMENTATION: 'otel' },
};

async function scrapeOnce(port) {
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      await res.text();
      if (res.ok) return;
    } catch {
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}

/** One spawn: wall ms from spawn to `listening`, the app's CPU ms by then, and (--scrape) wall ms to the first scrape. */
async function runOnce(script, variant) {
  const metricsPort = await freePort();
  const started = performance.now();
  const args = variant.preload ? ['--import', variant.preload, script] : [script];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, PROMETHEUS_METRICS_EXPORT_PORT: String(metricsPort), PROMETHEUS_METRICS_EXPORT_ADDRESS: '127.0.0.1', ...variant.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const listening = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening \d+ (\d+)\n/.exec(out);
      if (m) resolve({ wall: performance.now() - started, cpu: Number(m[1]) / 1000 });
    });
    exited.then((code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${err}`)));
  });
  let scraped;
  if (opts.scrape && variant.preload) {
    await scrapeOnce(metricsPort);
    scraped = performance.now() - started;
  }
  child.kill('SIGKILL');
  await exited;
  if (err) throw new Error(`unexpected stderr from ${args.join(' ')}: ${err}`);
  return { ...listening, scraped };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const variants = Object.keys(APPS).flatMap((app) => [
  { app, name: `${app}/bare` },
  ...PRELOADS.flatMap((p) =>
    Object.entries(MODES).map(([mode, env]) => ({ app, name: `${app}/${mode}${p.label ? `@${p.label}` : ''}`, preload: p.path, env })),
  ),
]);

const dir = mkdtempSync(join(tmpdir(), 'startup-'));
try {
  const scripts = {};
  for (const [kind, { file, source }] of Object.entries(APPS)) writeFileSync((scripts[kind] = join(dir, file)), source);
  const samples = Object.fromEntries(variants.map((v) => [v.name, { wall: [], cpu: [], scraped: [] }]));
  for (let round = 0; round <= ROUNDS; round++) {
    for (let i = 0; i < variants.length; i++) {
      const v = variants[(i + round) % variants.length];
      const r = await runOnce(scripts[v.app], v);
      if (round === 0) continue;
      samples[v.name].wall.push(r.wall);
      samples[v.name].cpu.push(r.cpu);
      if (r.scraped !== undefined) samples[v.name].scraped.push(r.scraped);
    }
  }
  const rows = variants.map((v) => {
    const bare = samples[`${v.app}/bare`];
    const s = samples[v.name];
    const wall = median(s.wall);
    const cpu = median(s.cpu);
    return {
      variant: v.name,
      wallMs: wall,
      addedWallMs: wall - median(bare.wall),
      ratio: wall / median(bare.wall),
      cpuMs: cpu,
      addedCpuMs: cpu - median(bare.cpu),
      firstScrapeMs: s.scraped.length ? median(s.scraped) : undefined,
    };
  });
  const load = loadavg().map((l) => l.toFixed(1)).join(' ');
  if (opts.json) {
    console.log(JSON.stringify({ node: process.version, rounds: ROUNDS, loadavg: load, preloads: PRELOADS, rows, samples }, null, 2));
  } else {
    console.log(`node ${process.version}, ${ROUNDS} rounds, load average ${load}; medians`);
    for (const p of PRELOADS) if (p.label) console.log(`  @${p.label} = ${p.path}`);
    const n = (x) => x.toFixed(0).padStart(4);
    for (const r of rows) {
      const scrape = r.firstScrapeMs === undefined ? '' : `  first scrape ${n(r.firstScrapeMs)} ms`;
      console.log(
        `${r.variant.padEnd(20)} listening ${n(r.wallMs)} ms (added ${n(r.addedWallMs)}, x${r.ratio.toFixed(2)})  cpu ${n(r.cpuMs)} ms (added ${n(r.addedCpuMs)})${scrape}`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
