// Throughput, latency, server CPU per request and RSS: variants interleaved round by round
// (A B C D, A B C D, ...) so slow drift of the machine hits every variant alike.
import { runLoad } from '../lib/load.mjs';
import { calibrationMs, machineBusyMs, waitForQuiet } from '../lib/machine.mjs';
import { startServer } from '../lib/server.mjs';
import { MB } from '../lib/stats.mjs';
import { makeGuard, withServer } from './guard.mjs';

async function measure(server, opts) {
  const common = { port: server.port, mode: 'mix', connections: opts.connections };
  const settle = await waitForQuiet({ maxMs: opts.settleSec * 1000 });
  const speedBefore = calibrationMs();
  if (opts.warmupSec > 0) await runLoad({ ...common, durationSec: opts.warmupSec });
  // The window is bounded by two server-side snapshots, so warm-up CPU is excluded.
  const m0 = machineBusyMs();
  const h0 = process.cpuUsage();
  const s0 = await server.snapshot();
  const load = await runLoad({ ...common, durationSec: opts.durationSec });
  const s1 = await server.snapshot();
  const h1 = process.cpuUsage(h0);
  const m1 = machineBusyMs();
  const speedAfter = calibrationMs();
  server.assertAlive();
  if (load.errors || load.timeouts) throw new Error(`${load.errors} errors, ${load.timeouts} timeouts under load`);
  const served = s1.requests - s0.requests;
  if (served <= 0) throw new Error('no request reached the server');
  const cpuUs = s1.cpu.user - s0.cpu.user + (s1.cpu.system - s0.cpu.system);
  const wallMs = s1.time - s0.time;
  // CPU the rest of the machine used meanwhile (in % of one core): other users of a shared box.
  const ownMs = cpuUs / 1000 + load.loadCpuMs + (h1.user + h1.system) / 1000;
  const otherPct = m0 === null ? NaN : Math.max(0, ((m1 - m0 - ownMs) / wallMs) * 100);
  return {
    rps: load.rps,
    p50: load.p50,
    p99: load.p99,
    cpuPerReq: cpuUs / served,
    busyPct: (cpuUs / 1000 / wallMs) * 100,
    otherPct,
    rssMB: s1.rss / MB,
    loadCpuPct: load.loadCpuPct,
    served,
    settledMs: settle.waitedMs,
    calibrationMs: Math.max(speedBefore, speedAfter),
  };
}

// A run during which the machine itself ran this much slower than its best is done again.
const SLOWDOWN_LIMIT = 1.25;
const MAX_REPEATS = 2;
// ... within a bound, so a host that stays slow cannot stretch the run past its 10 minutes.
const MAX_REPEATS_PER_PHASE = 12;

/** Returns rounds: [{ [variant]: result }], one object per round, and how many runs were repeated. */
export async function throughputPhase(variants, opts, failures, log) {
  const guarded = makeGuard('throughput', failures, log);
  const rounds = [];
  let fastest = Infinity;
  rounds.repeated = 0;
  for (let r = 1; r <= opts.rounds; r++) {
    const round = {};
    // The order rotates each round, so no variant always runs first (after a pause) or last.
    const shift = (r - 1) % variants.length;
    for (const v of [...variants.slice(shift), ...variants.slice(0, shift)]) {
      let res;
      for (let attempt = 0; attempt <= MAX_REPEATS; attempt++) {
        res = await guarded(v, () => withServer(() => startServer(v), (server) => measure(server, opts)));
        if (!res) break;
        fastest = Math.min(fastest, res.calibrationMs);
        const slowdown = res.calibrationMs / fastest;
        if (slowdown <= SLOWDOWN_LIMIT || attempt === MAX_REPEATS || rounds.repeated >= MAX_REPEATS_PER_PHASE) break;
        rounds.repeated++;
        log(`  round ${r} ${v.name}: the machine ran ${slowdown.toFixed(2)}x slower than its best during the run; running it again`);
      }
      if (!res) continue;
      round[v.name] = res;
      log(`  round ${r} ${v.name}: ${res.rps.toFixed(0)} req/s, ${res.cpuPerReq.toFixed(1)} us/req, `
        + `p99 ${res.p99} ms, server busy ${res.busyPct.toFixed(0)}%, load gen ${res.loadCpuPct.toFixed(0)}%, other processes ${res.otherPct.toFixed(0)}%`
        + (res.settledMs ? `, waited ${(res.settledMs / 1000).toFixed(1)} s for quiet` : ''));
    }
    rounds.push(round);
  }
  return rounds;
}
