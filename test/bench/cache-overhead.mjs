// Per-GET cost of the cache instrumentation against a real Redis: the same client loop run in
// child processes with and without the preload, in interleaved rounds (A B A B ...), so that
// machine noise hits both alike. Reports CPU and wall time per GET (medians over rounds) and the
// ratio instrumented / uninstrumented.
//
//   npm run build && node test/bench/cache-overhead.mjs [--rounds 5] [--gets 20000] [--redis redis://127.0.0.1:6379]
//
// Two shapes per client: sequential (one GET awaited at a time: latency-bound, what a request
// handler does) and concurrent (batches of 50 in flight: CPU-bound, the instrumentation's share shows).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const BATCH = 50;

const { values: options } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    gets: { type: 'string', default: '20000' },
    redis: { type: 'string', default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    child: { type: 'string' },
  },
});

/** One measurement: `gets` GETs per shape after a warm-up; prints one JSON line. */
async function runChild(client, gets, url) {
  const { get, close } = await openClient(client, url);
  const keys = Array.from({ length: 100 }, (_, i) => `bench:${i}`);
  // Half the keys exist: hits and misses alike.
  for (const key of keys.slice(0, 50)) await get.set(key, 'value');
  const shapes = {
    sequential: async (n) => {
      for (let i = 0; i < n; i++) await get(keys[i % keys.length]);
    },
    concurrent: async (n) => {
      for (let i = 0; i < n; i += BATCH) await Promise.all(keys.slice(0, BATCH).map((key) => get(key)));
    },
  };
  const result = {};
  for (const [shape, run] of Object.entries(shapes)) {
    await run(Math.min(gets, 5000)); // warm-up: JIT, connection
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    await run(gets);
    const wallNs = Number(process.hrtime.bigint() - start);
    const { user, system } = process.cpuUsage(cpu);
    result[shape] = { cpuUs: (user + system) / gets, wallUs: wallNs / 1000 / gets };
  }
  await close();
  console.log(JSON.stringify(result));
}

async function openClient(client, url) {
  if (client === 'ioredis') {
    const { default: Redis } = await import('ioredis');
    const redis = new Redis(url);
    const get = (key) => redis.get(key);
    get.set = (key, value) => redis.set(key, value);
    return { get, close: async () => void (await redis.quit()) };
  }
  const { createClient } = await import('redis');
  const redis = await createClient({ url }).connect();
  const get = (key) => redis.get(key);
  get.set = (key, value) => redis.set(key, value);
  return { get, close: async () => void (await redis.quit()) };
}

function measure(client, instrumented, gets, url) {
  const nodeArgs = instrumented ? ['--import', `${ROOT}dist/register.js`] : [];
  const env = { ...process.env, PROMETHEUS_METRICS_EXPORT_PORT: 'off' };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, SELF, '--child', client, '--gets', String(gets), '--redis', url], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${client} child exited with ${code}`))));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function runParent(rounds, gets, url) {
  console.log(`cache-overhead: ${rounds} interleaved rounds x ${gets} GETs per shape, ${url}, node ${process.version}`);
  console.log('\n| client | shape | CPU us/GET bare | CPU us/GET instrumented | CPU ratio | wall us/GET bare | wall us/GET instrumented | wall ratio |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const client of ['ioredis', 'node-redis']) {
    const runs = { bare: [], instrumented: [] };
    for (let round = 0; round < rounds; round++) {
      // Alternate which variant goes first, so neither always runs on a warmer machine.
      const order = round % 2 === 0 ? ['bare', 'instrumented'] : ['instrumented', 'bare'];
      for (const variant of order) runs[variant].push(await measure(client, variant === 'instrumented', gets, url));
    }
    for (const shape of ['sequential', 'concurrent']) {
      const stat = (variant, key) => median(runs[variant].map((r) => r[shape][key]));
      const [cpuBare, cpuInst, wallBare, wallInst] = [stat('bare', 'cpuUs'), stat('instrumented', 'cpuUs'), stat('bare', 'wallUs'), stat('instrumented', 'wallUs')];
      console.log(
        `| ${client} | ${shape} | ${cpuBare.toFixed(2)} | ${cpuInst.toFixed(2)} | ${(cpuInst / cpuBare).toFixed(3)} | ${wallBare.toFixed(2)} | ${wallInst.toFixed(2)} | ${(wallInst / wallBare).toFixed(3)} |`,
      );
    }
  }
}

if (options.child) {
  await runChild(options.child, Number(options.gets), options.redis);
} else {
  await runParent(Number(options.rounds), Number(options.gets), options.redis);
}
