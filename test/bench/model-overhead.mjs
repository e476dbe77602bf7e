// Per-operation overhead of the model counters: each ORM's create/update/delete cycle on
// PostgreSQL in three processes per round, interleaved: `plain` (no preload), `preload` (the
// preload, model not registered: the DB families only) and `registered` (the model registered with
// exportModelOperations or withModelOperations). Prints client CPU per model operation (medians of
// the rounds) and the paired ratios; then the migration collector's cost per scrape, in-process.
//
//   npm run build && node test/bench/model-overhead.mjs [--orms sequelize,typeorm,mikro-orm,prisma] [--rounds 7] [--cycles 1500]
//
// Needs PostgreSQL at 127.0.0.1:5432 (user postgres); uses the database `odm_bench`. Not part of
// the vitest suite.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REGISTER = `${ROOT}dist/register.js`;
const DATABASE = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'odm_bench' };
/** Each cycle is one insert, one update and one delete. */
const OPS_PER_CYCLE = 3;
const VARIANTS = ['plain', 'preload', 'registered'];

const { values: options } = parseArgs({
  options: {
    worker: { type: 'string' },
    variant: { type: 'string' },
    orms: { type: 'string', default: 'sequelize,typeorm,mikro-orm,prisma' },
    rounds: { type: 'string', default: '7' },
    cycles: { type: 'string', default: '1500' },
  },
});
const cycles = Number(options.cycles);

if (options.worker) await worker(options.worker, options.variant);
else await orchestrate();

/** One measurement in this process: prints `{ cpuUs }` per model operation as JSON. */
async function worker(orm, variant) {
  const { open } = await import(`./models/${orm}.mjs`);
  const api = variant === 'registered' ? await import('otel-django-metrics') : undefined;
  const workload = await open({ database: DATABASE, register: api && ((target) => api.exportModelOperations(target, 'dog')), extend: api && ((client) => api.withModelOperations(client, { Dog: 'dog' })) });
  // Enough cycles for the JIT to settle before measuring.
  for (let i = 0; i < cycles / 2; i++) await workload.cycle(i);
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < cycles; i++) await workload.cycle(i);
  const cpu = process.cpuUsage(cpu0);
  await workload.close();
  console.log(JSON.stringify({ cpuUs: (cpu.user + cpu.system) / (cycles * OPS_PER_CYCLE) }));
}

function runWorker(orm, variant) {
  const args = [...(variant === 'plain' ? [] : ['--import', REGISTER]), fileURLToPath(import.meta.url), '--worker', orm, '--variant', variant, '--cycles', String(cycles)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, PROMETHEUS_METRICS_EXPORT_PORT: 'off' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${orm} ${variant} worker exited with ${code}`))));
  });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function createDatabase() {
  const client = new pg.Client({ ...DATABASE, database: 'postgres' });
  await client.connect();
  const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE.database]);
  if (rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE.database}`);
  await client.end();
}

async function orchestrate() {
  await createDatabase();
  const rounds = Number(options.rounds);
  console.log(`Model operations on PostgreSQL: ${cycles} create/update/delete cycles per run after ${cycles / 2} warm-up cycles, ${rounds} interleaved rounds; client CPU per operation.`);
  console.log('| ORM | plain us/op | preload, not registered us/op | registered us/op | registered / plain | registered / not registered |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const orm of options.orms.split(',')) {
    const results = Object.fromEntries(VARIANTS.map((v) => [v, []]));
    for (let r = 0; r < rounds; r++) {
      // Rotate the order, so drift in the machine's load hits every variant alike.
      const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length]);
      for (const variant of order) results[variant].push((await runWorker(orm, variant)).cpuUs);
    }
    // Each round's runs are neighbours in time: their ratio cancels slow changes in the machine's load.
    const paired = (a, b) => median(results[a].map((x, i) => x / results[b][i])).toFixed(3);
    const med = (v) => median(results[v]).toFixed(1);
    console.log(`| ${orm} | ${med('plain')} | ${med('preload')} | ${med('registered')} | ${paired('registered', 'plain')} | ${paired('registered', 'preload')} |`);
  }
  await migrationCollectorCost();
}

/** What the migration gauges add to a scrape: the collector's own time with 4 connections of settled sources. */
async function migrationCollectorCost() {
  const { Registry } = await import('../../dist/src/store/registry.js');
  const { MigrationTracker } = await import('../../dist/src/migrations/tracker.js');
  const registry = new Registry({ namespace: '', latencyBuckets: [0.1, 1], maxSeriesPerMetric: 10000 });
  const tracker = new MigrationTracker(registry, { enabled: true, refreshSeconds: 0, log: () => {} });
  const handles = ['default', 'replica', 'analytics', 'billing'].flatMap((connection) => [1, 2].map((n) => tracker.add({ key: `${connection}#${n}`, tool: 'bench', connection, read: async () => ({ applied: 40, unapplied: n }) })));
  await Promise.all(handles.map((h) => h.refresh()));
  const calls = 200_000;
  let points = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) for (const family of tracker.collector.collect()) for (const _ of family.points) points++;
  const ns = Number(process.hrtime.bigint() - t0) / calls;
  tracker.stop();
  console.log(`\nMigration collector: ${(ns / 1000).toFixed(2)} us per scrape (8 sources on 4 connections, ${points / calls} samples), in-process, ${calls} collections.`);
}
