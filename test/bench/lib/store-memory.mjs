// Memory per series without HTTP: a fresh process imports one tree's built store, drives the
// scrape phase's label sets into the families a request touches, writes one full scrape (which
// fills any per-series render cache) into a discarding sink, and reports the heap retained per
// label set after full GCs. No traffic garbage, and --predictable (no concurrent JIT or GC
// threads) takes thread timing out: the store's part repeats to within a byte, the scrape's part
// (its time slices decide where the writer yields) to within about 1.5%.
// CLI: node test/bench/lib/store-memory.mjs [--routes=N] [--runs=N] <tree> [<tree>...]
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { SCRAPE_METHODS, SCRAPE_STATUSES, scrapeRoutes } from '../apps/routes.mjs';
import { median } from './stats.mjs';
import { OURS_SCRAPE_CAP } from './variants.mjs';

const SELF = fileURLToPath(import.meta.url);

/**
 * Bytes of heap per label set in `runs` fresh processes, one after another: with the first full
 * scrape (`runs`, `median`) and before it (`storeOnly`, the store's series alone).
 */
export async function storeMemory(tree, { routes, runs = 3 }) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const args = ['--expose-gc', '--predictable', SELF, '--child', resolve(tree), String(routes)];
    samples.push(JSON.parse((await promisify(execFile)(process.execPath, args, { timeout: 120_000 })).stdout));
  }
  const pick = (k) => samples.map((s) => s[k]);
  return { runs: pick('bytesPerLabelSet'), median: median(pick('bytesPerLabelSet')), storeOnly: median(pick('storeOnly')), labelSets: samples[0].labelSets };
}

async function child(tree, routes) {
  const dist = (p) => import(pathToFileURL(join(tree, 'dist', p)).href);
  const { Registry } = await dist('src/store/registry.js');
  const { HTTP, DEFAULT_LATENCY_BUCKETS } = await dist('views/index.js');
  const registry = new Registry({ namespace: '', latencyBuckets: DEFAULT_LATENCY_BUCKETS, maxSeriesPerMetric: OURS_SCRAPE_CAP });
  // The one tree-specific part: before the data model (a740478) the registry wrote the text
  // itself; since, the text writer reads the registry's snapshots and caches rendered labels.
  const writer = typeof registry.collect === 'function'
    ? await dist('src/exposition/prometheus-text.js').then((m) => (out, take) => m.writeExposition(registry.collect(), out, take))
    : (out, take) => registry.write(out, take);
  const discard = (out) => void (out.length = 0);
  const scrape = () => writer([], discard);

  // The label values belong to the app (route templates) or are constants: made before the
  // first reading so that only what the store keeps per label set is counted.
  const labelSets = [];
  for (const { mount, path } of scrapeRoutes(routes)) {
    for (const method of SCRAPE_METHODS) for (const code of SCRAPE_STATUSES) labelSets.push([mount + path, method, String(code)]);
  }
  const f = {
    requestsBefore: registry.counter(HTTP.requestsBefore), responsesBefore: registry.counter(HTTP.responsesBefore),
    latencyIncluding: registry.histogram(HTTP.latencyIncludingMiddlewares), latencyByView: registry.histogram(HTTP.latencyByViewMethod),
    byMethod: registry.counter(HTTP.requestsByMethod), byTransport: registry.counter(HTTP.requestsByTransport),
    byViewTransportMethod: registry.counter(HTTP.requestsByViewTransportMethod), requestBody: registry.histogram(HTTP.requestBodyBytes),
    byStatus: registry.counter(HTTP.responsesByStatus), byStatusViewMethod: registry.counter(HTTP.responsesByStatusViewMethod),
    responseBody: registry.histogram(HTTP.responseBodyBytes), byCharset: registry.counter(HTTP.responsesByCharset),
  };
  await scrape(); // module-level writer caches (bucket `le` texts) are not per series
  // Everything measured stays reachable through the readings.
  globalThis.storeMemoryKept = [registry, labelSets];
  const heap = () => {
    for (let i = 0; i < 6; i++) globalThis.gc();
    return process.memoryUsage().heapUsed;
  };
  const before = heap();
  // What HttpRecorder records for one routed, non-streaming request (countEntry + complete),
  // with one reused tuple per arity as the recorder does.
  const t1 = [''];
  const t2 = ['', ''];
  const t3 = ['', '', ''];
  const v1 = (a) => ((t1[0] = a), t1);
  const v2 = (a, b) => ((t2[0] = a), (t2[1] = b), t2);
  const v3 = (a, b, c) => ((t3[0] = a), (t3[1] = b), (t3[2] = c), t3);
  for (const [view, method, status] of labelSets) {
    f.requestsBefore.inc();
    f.byMethod.add(v1(method));
    f.byTransport.add(v1('http'));
    f.requestBody.observe(0);
    f.responsesBefore.inc();
    f.latencyIncluding.observe(0.002);
    f.byViewTransportMethod.add(v3(view, 'http', method));
    f.latencyByView.observeWith(v2(view, method), 0.001);
    f.byStatus.add(v1(status));
    f.byStatusViewMethod.add(v3(status, view, method));
    f.responseBody.observe(20);
    f.byCharset.add(v1('utf-8'));
  }
  const driven = heap();
  await scrape();
  const after = heap();
  const n = labelSets.length;
  return { labelSets: n, bytesPerLabelSet: (after - before) / n, storeOnly: (driven - before) / n };
}

async function cli(argv) {
  const flag = (name, dflt) => Number(argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
  const trees = argv.filter((a) => !a.startsWith('--'));
  const routes = flag('routes', 2000);
  const runs = flag('runs', 3);
  for (const tree of trees.length ? trees : [fileURLToPath(new URL('../../../', import.meta.url))]) {
    const r = await storeMemory(tree, { routes, runs });
    console.log(`${tree}: ${r.median.toFixed(1)} bytes per label set after the first scrape (median; runs ${r.runs.map((x) => x.toFixed(1)).join(' / ')}), `
      + `${r.storeOnly.toFixed(1)} before it; ${r.labelSets} label sets`);
  }
}

if (process.argv[1] === SELF) {
  if (process.argv[2] === '--child') console.log(JSON.stringify(await child(process.argv[3], Number(process.argv[4]))));
  else await cli(process.argv.slice(2));
}
