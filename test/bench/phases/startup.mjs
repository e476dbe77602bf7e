// Startup: spawn-to-listening time, interleaved across variants in an order that rotates every
// rep (so a burst of load from other processes does not always land on the same variant), the
// first spawn of each discarded (it pays for a cold disk cache, which would otherwise land on
// whichever variant runs first).
import { startServer } from '../lib/server.mjs';
import { makeGuard } from './guard.mjs';

export async function startupPhase(variants, opts, failures, log) {
  const guarded = makeGuard('startup', failures, log);
  const samples = Object.fromEntries(variants.map((v) => [v.name, []]));
  for (let rep = 0; rep <= opts.startupReps; rep++) {
    for (let i = 0; i < variants.length; i++) {
      const v = variants[(i + rep) % variants.length];
      await guarded(v, async () => {
        const server = await startServer(v);
        await server.stop();
        if (rep > 0) samples[v.name].push(server.startupMs);
      });
    }
  }
  log(`  startup: ${variants.map((v) => `${v.name} ${samples[v.name].map((x) => x.toFixed(0)).join('/')} ms`).join(', ')}`);
  return samples;
}
