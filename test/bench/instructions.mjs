#!/usr/bin/env node
// CPU instructions per request of the server process, measured with valgrind's callgrind (stable
// on a noisy, shared machine where wall-clock and CPU-time figures are not): each framework's app
// bare, and with the preload (`--import <tree>/dist/register.js`) of each given source tree.
// Flags: --help. Pieces: instructions/callgrind.mjs (one server under callgrind), instructions/apps/
// (fastify, koa, node:http, hapi, NestJS apps and the peers; express and its peers are the bench's apps/),
// lib/load.mjs (the load generator, the bench's route mix from apps/routes.mjs).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOAD_MIX } from './apps/routes.mjs';
import { cleanEnv, killServers, measure } from './instructions/callgrind.mjs';
import { stopLoad } from './lib/load.mjs';
import { killAll } from './lib/procs.mjs';
import { ROOT } from './lib/variants.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

/**
 * Each framework's bare app and its peers: the same app plus another library's metrics, comparable
 * to ours (requests counted by route template, method and status, and a latency histogram by route
 * template and method; each peer app says exactly what it records), measured against the same bare
 * app. A framework without a peer is measured bare vs preload only.
 */
export const FRAMEWORKS = {
  express: {
    label: 'express 5',
    app: here('./apps/bare.mjs'),
    peers: { 'prom-client': here('./apps/prom-client.mjs'), 'express-prom-bundle': here('./apps/prom-bundle.mjs') },
  },
  fastify: {
    label: 'fastify 5',
    app: here('./instructions/apps/fastify.mjs'),
    peers: { 'fastify-metrics': here('./instructions/apps/fastify-metrics.mjs') },
  },
  koa: {
    label: 'koa 3 + @koa/router',
    app: here('./instructions/apps/koa.mjs'),
    peers: { 'prom-client': here('./instructions/apps/koa-prom-client.mjs') },
  },
  'node-http': {
    label: 'node:http',
    app: here('./instructions/apps/node-http.mjs'),
    peers: { 'prom-client': here('./instructions/apps/node-http-prom-client.mjs') },
  },
  hapi: { label: 'hapi 21', app: here('./instructions/apps/hapi.mjs'), peers: {} },
  nestjs: { label: 'NestJS 11 (express)', app: here('./instructions/apps/nestjs.mjs'), peers: {} },
};

const USAGE = `usage: node test/bench/instructions.mjs [flags]
  --frameworks=a,b      ${Object.keys(FRAMEWORKS).join(', ')} (default all)
  --trees=l=/path,...   source trees whose dist/register.js is preloaded, each compared with bare
                        (default this=<this repo>); the first is the reference of the ratio columns
  --no-peers            measure bare and the trees only, not each framework's peers
  --requests=N          requests per measured window (default 1800: 200 rounds of the 9-request mix)
  --warmup=N            uninstrumented warm-up requests before measuring (default 3000)
  --windows=N           consecutive measured windows; the last is reported, the earlier ones absorb
                        the one-off cost of switching instrumentation on: V8 keeps compiling for
                        about 7000 instrumented requests whatever the warm-up (default 6)
  --connections=N       keep-alive load connections (default 1)
  --repeat=N            measure everything N times, interleaved, and report every run (default 1)
  --parallel=N          server processes measured at once (default 1; instruction counts do not
                        depend on it, only wall time does)
  --node-args="a b"     extra node flags for every server, space-separated (e.g. --predictable:
                        V8 single-threaded and deterministic, no concurrent JIT or GC threads)
  --out=PATH            also write the markdown report there
  --keep                keep the callgrind output files (printed)
Mix per connection, in order: ${LOAD_MIX.join(' ')}`;

function parseOptions(argv) {
  const o = {
    frameworks: Object.keys(FRAMEWORKS), trees: [{ label: 'this', path: ROOT }],
    requests: 1800, warmup: 3000, windows: 6, connections: 1, repeat: 1, parallel: 1, nodeArgs: [], out: null, keep: false, peers: true,
  };
  const NUM = { requests: 1, warmup: 0, windows: 1, connections: 1, repeat: 1, parallel: 1 };
  for (const arg of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unexpected argument "${arg}"\n${USAGE}`);
    const [, name, value] = m;
    if (name === 'help') return { help: true };
    if (name === 'keep') { o.keep = true; continue; }
    if (name === 'no-peers') { o.peers = false; continue; }
    if (name === 'node-args') { o.nodeArgs = value.split(/\s+/).filter(Boolean); continue; }
    if (name === 'out') { o.out = resolve(value); continue; }
    if (name === 'frameworks') {
      o.frameworks = value.split(',').map((s) => s.trim()).filter(Boolean);
      const bad = o.frameworks.filter((f) => !FRAMEWORKS[f]);
      if (bad.length) throw new Error(`unknown framework ${bad.join(', ')} (known: ${Object.keys(FRAMEWORKS).join(', ')})`);
      continue;
    }
    if (name === 'trees') {
      o.trees = value.split(',').filter(Boolean).map((spec) => {
        const eq = spec.indexOf('=');
        if (eq < 1) throw new Error(`--trees entries are label=/path, got "${spec}"`);
        return { label: spec.slice(0, eq), path: resolve(spec.slice(eq + 1)) };
      });
      continue;
    }
    if (!(name in NUM)) throw new Error(`unknown flag --${name}\n${USAGE}`);
    const n = Number(value);
    if (!Number.isInteger(n) || n < NUM[name]) throw new Error(`--${name} needs an integer >= ${NUM[name]}`);
    o[name] = n;
  }
  for (const t of o.trees) {
    t.preload = join(t.path, 'dist', 'register.js');
    if (!existsSync(t.preload)) throw new Error(`${t.preload} not found (build that tree: npx tsc -p tsconfig.json)`);
  }
  if (o.requests < o.connections) throw new Error('--requests must be at least --connections');
  return o;
}

const k = (ir) => (Number.isFinite(ir) ? `${(ir / 1e3).toFixed(1)}k` : '-');
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const signedK = (ir) => (Number.isFinite(ir) ? `${ir >= 0 ? '+' : ''}${k(ir)}` : '-');
const spreadPct = (xs) => (xs.length > 1 ? ((Math.max(...xs) - Math.min(...xs)) / Math.abs(mean(xs))) * 100 : NaN);

/** What runs for one framework: bare, the preload of each tree, and (unless --no-peers) each peer's app. */
function variantsOf(o, fw) {
  const { app, peers } = FRAMEWORKS[fw];
  return [
    { key: 'bare', app, preload: null },
    ...o.trees.map((t) => ({ key: t.label, app, preload: t.preload })),
    ...(o.peers ? Object.entries(peers).map(([name, peerApp]) => ({ key: `peer ${name}`, name, app: peerApp, preload: null })) : []),
  ];
}

function render(o, results, argv) {
  const lines = [];
  const { trees } = o;
  const runs = o.repeat;
  lines.push(`Server instructions (callgrind Ir, all threads) per request; mix per connection: 7x GET /api/items/:id + GET /health + GET 404,`);
  lines.push(`${o.connections} keep-alive connection(s), ${o.warmup} warm-up requests uninstrumented, then ${o.windows} window(s) of ${o.requests}; the last window is reported.`);
  lines.push(`Date ${new Date().toISOString()}. Node ${process.version}${o.nodeArgs.length ? ` (${o.nodeArgs.join(' ')})` : ''}. Command: node test/bench/instructions.mjs ${argv.join(' ')}`);
  lines.push(`Trees: ${trees.map((t) => `${t.label}=${t.path}`).join(', ')}. Preload runs: PROMETHEUS_METRICS_EXPORT_PORT=off.`);
  lines.push(`JIT = Ir under V8's compilers (TurboFan jobs and their installation, Sparkplug, Maglev; instructions/callgrind.mjs JIT_ROOTS): `
    + `a compile that lands in the window is a one-off. GC = Ir under V8's garbage collector (GC_ROOTS): mostly root scanning, several million Ir `
    + `per scavenge whatever was allocated, and scavenges are started by a task, so their number in a window follows timing. `
    + `"excl. JIT and GC" is added Ir/request with every variant's JIT and GC Ir taken out: the figure that repeats run to run. Brackets: the variant's own JIT / GC Ir per request (mean of the runs).`);
  if (o.peers) {
    lines.push(`Peers (no preload, each framework's own app plus the peer): ${o.frameworks.map((fw) => `${FRAMEWORKS[fw].label}: ${Object.keys(FRAMEWORKS[fw].peers).join(', ') || 'none'}`).join('; ')}. `
      + `"${trees[0].label} / best peer" divides ${trees[0].label}'s added Ir/request excl. JIT and GC by the lowest peer's, run by run.`);
  }
  lines.push('');
  const head = ['framework', 'bare Ir/request (JIT / GC)'];
  for (const [i, t] of trees.entries()) {
    head.push(`${t.label}: added Ir/request (JIT / GC)`, `${t.label}: added excl. JIT and GC`);
    if (i > 0) head.push(`${t.label} / ${trees[0].label}, excl. JIT and GC`);
  }
  if (o.peers) head.push('peers: added excl. JIT and GC', `${trees[0].label} / best peer, excl. JIT and GC`);
  lines.push(`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i ? '---:' : '---')).join('|')}|`);
  const cell = (xs, f) => (xs.length > 1 ? `${f(mean(xs))} (${xs.map(f).join(' / ')})` : f(xs[0]));
  const ratio = (x) => `${x.toFixed(2)}x`;
  for (const fw of o.frameworks) {
    const bare = results[fw].bare;
    const { jit, gc } = results;
    const apart = (key) => `${k(mean(jit[fw][key]))} / ${k(mean(gc[fw][key]))}`;
    const row = [FRAMEWORKS[fw].label, `${cell(bare, k)} (${apart('bare')})`];
    const addedOf = (key) => results[fw][key].map((x, r) => x - bare[r]);
    const exJitGc = (key) => addedOf(key).map((a, r) => a - (jit[fw][key][r] - jit[fw].bare[r]) - (gc[fw][key][r] - gc[fw].bare[r]));
    const steady0 = exJitGc(trees[0].label);
    for (const [i, t] of trees.entries()) {
      row.push(`${cell(addedOf(t.label), signedK)} (${apart(t.label)})`, cell(exJitGc(t.label), signedK));
      if (i > 0) row.push(cell(exJitGc(t.label).map((a, r) => a / steady0[r]), ratio));
    }
    if (o.peers) {
      const peers = variantsOf(o, fw).filter((v) => v.name !== undefined).map((v) => ({ name: v.name, added: exJitGc(v.key) }));
      if (peers.length === 0) row.push('-', '-');
      else {
        const best = peers.reduce((a, b) => (mean(b.added) < mean(a.added) ? b : a));
        row.push(peers.map((p) => `${p.name} ${cell(p.added, signedK)}`).join('; '), `${cell(steady0.map((a, r) => a / best.added[r]), ratio)} (${best.name})`);
      }
    }
    lines.push(`| ${row.join(' | ')} |`);
  }
  if (runs > 1) {
    lines.push('', `Values: mean (run 1 / run 2 / ...). Run-to-run spread ((max - min) / mean) of the absolute Ir/request:`);
    for (const fw of o.frameworks) {
      const parts = variantsOf(o, fw).map((v) => `${v.key} ${spreadPct(results[fw][v.key]).toFixed(2)}%`);
      lines.push(`- ${FRAMEWORKS[fw].label}: ${parts.join(', ')}`);
    }
  }
  lines.push('', 'Every window (Ir/request, JIT / GC in brackets; the first windows of each process carry the cost of switching instrumentation on):');
  for (const w of results.windows) lines.push(`- run ${w.run} ${w.fw} ${w.variant}: ${w.perRequest.map((x, i) => `${k(x)} (${k(w.jitPerRequest[i])} / ${k(w.gcPerRequest[i])})`).join(', ')}`);
  return lines.join('\n');
}

async function main() {
  const argv = process.argv.slice(2);
  let o;
  try { o = parseOptions(argv); } catch (e) { console.error(e.message); return 2; }
  if (o.help) { console.log(USAGE); return 0; }
  const outDir = mkdtempSync(join(tmpdir(), 'odm-instructions-'));
  const results = { windows: [], jit: {}, gc: {} };
  const log = (s) => console.log(s);
  const jobs = [];
  for (const fw of o.frameworks) {
    const keys = variantsOf(o, fw).map((v) => v.key);
    results[fw] = Object.fromEntries(keys.map((key) => [key, []]));
    results.jit[fw] = Object.fromEntries(keys.map((key) => [key, []]));
    results.gc[fw] = Object.fromEntries(keys.map((key) => [key, []]));
  }
  for (let run = 1; run <= o.repeat; run++) {
    for (const fw of o.frameworks) for (const v of variantsOf(o, fw)) jobs.push({ run, fw, v });
  }
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const order = next++;
      const { run, fw, v } = jobs[order];
      const tag = `[run ${run} ${fw} ${v.key}]`;
      log(`instructions: ${tag} start${v.preload ? ` (--import ${v.preload})` : ''}`);
      const env = { ...cleanEnv(), ...(v.preload ? { PROMETHEUS_METRICS_EXPORT_PORT: 'off' } : {}) };
      const r = await measure({
        app: v.app, preload: v.preload, env, outFile: join(outDir, `${run}-${fw}-${v.key.replace(/\W+/g, '-')}.cg`),
        warmup: o.warmup, requests: o.requests, windows: o.windows, connections: o.connections, nodeArgs: o.nodeArgs,
        log: (s) => log(`${tag}${s}`),
      });
      results[fw][v.key][run - 1] = r.irPerRequest.at(-1);
      results.jit[fw][v.key][run - 1] = r.jitPerRequest.at(-1);
      results.gc[fw][v.key][run - 1] = r.gcPerRequest.at(-1);
      results.windows.push({ run, fw, variant: v.key, order, perRequest: r.irPerRequest, jitPerRequest: r.jitPerRequest, gcPerRequest: r.gcPerRequest });
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.parallel, jobs.length) }, worker));
  results.windows.sort((a, b) => a.order - b.order); // jobs are listed run by run
  const report = render(o, results, argv);
  console.log(`\n${report}`);
  if (o.out) { writeFileSync(o.out, `${report}\n`); log(`instructions: wrote ${o.out}`); }
  if (o.keep) log(`instructions: callgrind files in ${outDir}`);
  else rmSync(outDir, { recursive: true, force: true });
  return 0;
}

const cleanup = () => { killServers(); stopLoad(); killAll(); };
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => { cleanup(); process.exit(130); });
main().then(
  (code) => { cleanup(); process.exit(code); },
  (err) => { console.error(err); cleanup(); process.exit(1); },
);
