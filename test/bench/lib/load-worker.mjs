// The load generator process: runs autocannon jobs sent by the harness over IPC, one at a time,
// and reports autocannon's figures plus its own CPU use (to show whether the generator, not the
// server, was the limit).
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { LOAD_MIX, unknownPath } from '../apps/routes.mjs';

const requestsFor = (mode) => {
  if (mode === 'mix') return LOAD_MIX.map((path) => ({ method: 'GET', path }));
  if (mode === 'unknown') return [{ method: 'GET', setupRequest: (req) => ({ ...req, path: unknownPath() }) }];
  throw new Error(`unknown load mode ${mode}`);
};

function runJob({ port, mode, connections, durationSec, amount }) {
  return new Promise((resolve, reject) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const opts = { url: `http://127.0.0.1:${port}`, connections, requests: requestsFor(mode), timeout: 10 };
    if (amount) opts.amount = amount;
    else opts.duration = durationSec;
    autocannon(opts, (err, r) => {
      if (err) return reject(err);
      const cpu = process.cpuUsage(cpu0);
      const wallMs = performance.now() - t0;
      resolve({
        total: r.requests.total,
        durationSec: r.duration,
        // autocannon's duration is whole ticks for amount-bound jobs; the job's own wall time is exact.
        rps: r.requests.total / (amount ? wallMs / 1000 : r.duration),
        p50: r.latency.p50,
        p99: r.latency.p99,
        errors: r.errors,
        timeouts: r.timeouts,
        non2xx: r.non2xx,
        status4xx: r['4xx'],
        status5xx: r['5xx'],
        loadCpuMs: (cpu.user + cpu.system) / 1000,
        loadCpuPct: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
      });
    });
  });
}

process.on('message', async (msg) => {
  try {
    process.send({ id: msg.id, result: await runJob(msg.job) });
  } catch (e) {
    process.send({ id: msg.id, error: String(e?.stack ?? e) });
  }
});
process.on('disconnect', () => process.exit(0));
