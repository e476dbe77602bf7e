// Memory under unknown URLs (scanners, typos): RSS after the first checkpoint vs after N requests,
// each read after a forced GC (--expose-gc) so retained memory, not garbage, is compared.
import { runLoad } from '../lib/load.mjs';
import { startServer } from '../lib/server.mjs';
import { MB } from '../lib/stats.mjs';
import { makeGuard, withServer } from './guard.mjs';

// Bound each load job in time: at least 1,000 req/s is expected from any variant.
const maxMsFor = (amount) => 30_000 + amount;

async function measure(server, opts) {
  const common = { port: server.port, mode: 'unknown', connections: opts.connections };
  const a = await runLoad({ ...common, amount: opts.memFirst, maxMs: maxMsFor(opts.memFirst) });
  const s1 = await server.snapshot({ gc: true });
  const rest = opts.memRequests - opts.memFirst;
  const b = await runLoad({ ...common, amount: rest, maxMs: maxMsFor(rest) });
  const s2 = await server.snapshot({ gc: true });
  server.assertAlive();
  if (a.errors || b.errors || a.timeouts || b.timeouts) throw new Error('errors or timeouts under load');
  return {
    requests: s2.requests,
    rssFirstMB: s1.rss / MB,
    rssMB: s2.rss / MB,
    growthMB: (s2.rss - s1.rss) / MB,
    heapGrowthMB: (s2.heapUsed - s1.heapUsed) / MB,
    rps: b.rps,
  };
}

export async function memoryPhase(variants, opts, failures, log) {
  const guarded = makeGuard('memory', failures, log);
  const results = {};
  // Only our fast path: the question is whether our label sets stay bounded, and 1M requests
  // per variant would not fit the run's 10 minutes for every peer.
  for (const v of variants.filter((x) => x.memory)) {
    const res = await guarded(v, () => withServer(() => startServer(v, { nodeArgs: ['--expose-gc'] }), (s) => measure(s, opts)));
    if (!res) continue;
    results[v.name] = res;
    log(`  memory ${v.name}: RSS ${res.rssFirstMB.toFixed(1)} -> ${res.rssMB.toFixed(1)} MB after ${res.requests} requests`);
  }
  return results;
}
