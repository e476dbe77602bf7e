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
import { recordRoutedRequest, routedRequestFamilies } from './routed-request.mjs';
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
  const f = routedRequestFamilies(registry, HTTP);
  await scrape(); // module-level writer caches (bucket `le` texts) are not per series
  // Everything measured stays reachable through the readings.
  globalThis.storeMemoryKept = [registry, labelSets];
  const heap = () => {
    for (let i = 0; i < 6; i++) globalThis.gc();
    return process.memoryUsage().heapUsed;
  };
  const before = heap();
  for (const [view, method, status] of labelSets) recordRoutedRequest(f, view, method, status, { latency: 0.002, viewLatency: 0.001, responseBytes: 20 });
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
