// Scrape cost: fill each variant with routes x methods x statuses series, then time repeated
// /metrics scrapes and, inside the server, the longest event-loop block during each scrape.
// Timed scrapes are plain text; gzip scrapes (what Prometheus sends) count for the block too.
import { performance } from 'node:perf_hooks';
import { scrapeRequests } from '../apps/routes.mjs';
import { driveRequests } from '../lib/http.mjs';
import { scrapeOnce } from '../lib/scrape-once.mjs';
import { startServer } from '../lib/server.mjs';
import { median } from '../lib/stats.mjs';
import { storeMemory } from '../lib/store-memory.mjs';
import { hasScrape } from '../lib/variants.mjs';
import { makeGuard, withServer } from './guard.mjs';

async function measure(server, opts) {
  const requests = scrapeRequests(opts.routes);
  // Heap retained for the series (after a full GC), before any traffic and after the first scrape
  // (which fills any per-series render cache): what each driven label set costs to keep.
  const heapBefore = (await server.snapshot({ gc: true })).heapUsed;
  const t0 = performance.now();
  await driveRequests(server.port, requests);
  const driveSec = (performance.now() - t0) / 1000;
  const first = await scrapeOnce(server);
  const heapAfter = (await server.snapshot({ gc: true })).heapUsed;
  // How many of the driven route templates made it into the exposition (caps and overflow show here).
  const routesSeen = new Set([...first.body.matchAll(/g\d+\/r(\d+)\b/g)].map((m) => m[1])).size;
  const overflow = first.body.includes('otel_metric_overflow');
  const runs = [];
  for (let i = 0; i < opts.scrapes; i++) runs.push(await scrapeOnce(server));
  const gzipped = [];
  for (let i = 0; i < opts.scrapes; i++) gzipped.push(await scrapeOnce(server, { gzip: true }));
  server.assertAlive();
  const blocked = [first, ...runs, ...gzipped].reduce((a, b) => (b.maxBlockMs > a.maxBlockMs ? b : a));
  const ms = median(runs.map((r) => r.ms));
  const lines = median(runs.map((r) => r.lines));
  return {
    requests: requests.length,
    driveSec,
    firstMs: first.ms,
    ms,
    lines,
    bytes: median(runs.map((r) => r.bytes)),
    usPerLine: lines ? (ms * 1000) / lines : NaN,
    maxBlockMs: blocked.maxBlockMs,
    blockedScrapeCpuWaitMs: blocked.cpuWaitMs,
    gzipMs: median(gzipped.map((r) => r.ms)),
    gzipMaxBlockMs: Math.max(...gzipped.map((r) => r.maxBlockMs)),
    routesSeen,
    overflow,
    heapBytesPerRequest: (heapAfter - heapBefore) / requests.length,
  };
}

export async function scrapePhase(variants, opts, failures, log) {
  const guarded = makeGuard('scrape', failures, log);
  const results = {};
  const stores = new Map(); // per tree: variants of one checkout share its store
  for (const v of variants.filter(hasScrape)) {
    const env = { BENCH_ROUTES: String(opts.routes), ...v.scrapeEnv };
    const res = await guarded(v, async () => {
      const r = await withServer(() => startServer(v, { env, nodeArgs: ['--expose-gc'] }), (server) => measure(server, opts));
      // The HTTP figure above swings with the traffic's garbage; this one, of the store alone, does not.
      if (v.tree && !stores.has(v.tree)) stores.set(v.tree, await storeMemory(v.tree, { routes: opts.routes }));
      return { ...r, store: v.tree ? stores.get(v.tree) : undefined };
    });
    if (!res) continue;
    results[v.name] = res;
    log(`  scrape ${v.name}: ${res.lines} lines, ${res.ms.toFixed(1)} ms (first ${res.firstMs.toFixed(1)}), `
      + `block ${res.maxBlockMs.toFixed(1)} ms (in a scrape during which the server waited ${res.blockedScrapeCpuWaitMs.toFixed(1)} ms for a CPU), `
      + `gzip scrapes ${res.gzipMs.toFixed(1)} ms with block ${res.gzipMaxBlockMs.toFixed(1)} ms, `
      + `${res.routesSeen}/${opts.routes} routes, drive ${res.driveSec.toFixed(1)} s, `
      + `heap retained ${res.heapBytesPerRequest.toFixed(0)} bytes per driven label set`
      + (res.store ? `; store alone ${res.store.median.toFixed(0)} bytes per label set (runs ${res.store.runs.map((x) => x.toFixed(0)).join(' / ')})` : ''));
  }
  return results;
}
