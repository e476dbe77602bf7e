// Per-query overhead of the DB instrumentation: `SELECT 1` through a pg.Pool (one connection,
// sequential awaits) in a plain process and in one started with the preload, in interleaved rounds.
// Prints per-query wall time and client CPU time (medians of the rounds) and the preload/plain ratios.
//
//   npm run build && node test/bench/db-overhead.mjs [--rounds 9] [--queries 10000]
//
// Needs PostgreSQL: DATABASE_URL, else 127.0.0.1:5432 (user postgres, database test).
// Not part of the vitest suite.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REGISTER = `${ROOT}dist/register.js`;
/** Enough queries for the JIT to reach steady state before measuring. */
const WARMUP = 5000;

const { values: options } = parseArgs({
  options: {
    worker: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '9' },
    queries: { type: 'string', default: '10000' },
  },
});
const queries = Number(options.queries);

if (options.worker) await worker();
else await orchestrate();

/** One measurement in this process: prints `{ wallUs, cpuUs }` per query as JSON. */
async function worker() {
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({
    ...(process.env.DATABASE_URL ? { connectionString: process.env.DATABASE_URL } : { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' }),
    max: 1,
  });
  for (let i = 0; i < WARMUP; i++) await pool.query('SELECT 1');
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < queries; i++) await pool.query('SELECT 1');
  const wallNs = Number(process.hrtime.bigint() - t0);
  const cpu = process.cpuUsage(cpu0);
  await pool.end();
  console.log(JSON.stringify({ wallUs: wallNs / 1000 / queries, cpuUs: (cpu.user + cpu.system) / queries }));
}

function runWorker(preload) {
  const args = [...(preload ? ['--import', REGISTER] : []), fileURLToPath(import.meta.url), '--worker', '--queries', String(queries)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, PROMETHEUS_METRICS_EXPORT_PORT: 'off' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exited with ${code}`))));
  });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function orchestrate() {
  const rounds = Number(options.rounds);
  const results = { plain: [], preload: [] };
  for (let r = 0; r < rounds; r++) {
    // Alternate which variant goes first, so drift in the machine's load hits both alike.
    const order = r % 2 === 0 ? ['plain', 'preload'] : ['preload', 'plain'];
    for (const variant of order) results[variant].push(await runWorker(variant === 'preload'));
    const last = (v) => results[v].at(-1);
    console.log(`round ${r + 1}/${rounds}: plain ${fmt(last('plain'))} | preload ${fmt(last('preload'))}`);
  }
  const summary = (v) => ({ wallUs: median(results[v].map((x) => x.wallUs)), cpuUs: median(results[v].map((x) => x.cpuUs)) });
  // Each round's two runs are neighbours in time: their ratio cancels slow changes in the machine's load.
  const pairedRatio = (metric) => median(results.plain.map((p, i) => results.preload[i][metric] / p[metric]));
  const plain = summary('plain');
  const preload = summary('preload');
  console.log(`\nSELECT 1 through a pg.Pool, ${queries} sequential queries per run, ${rounds} interleaved rounds (medians):`);
  console.log(`  plain    ${fmt(plain)}`);
  console.log(`  preload  ${fmt(preload)}`);
  console.log(`  ratio    wall ${pairedRatio('wallUs').toFixed(3)}, client CPU ${pairedRatio('cpuUs').toFixed(3)} (median of per-round preload/plain)`);
  console.log(`  added    wall ${(preload.wallUs - plain.wallUs).toFixed(1)} us, client CPU ${(preload.cpuUs - plain.cpuUs).toFixed(1)} us per query`);
}

function fmt({ wallUs, cpuUs }) {
  return `${wallUs.toFixed(1)} us/query wall, ${cpuUs.toFixed(1)} us/query client CPU`;
}
