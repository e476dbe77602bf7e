import { beforeAll, describe, expect, test } from 'vitest';
import { MEMCACHED_PORT, reachable, REDIS_PORT, requireServer, shouldRun } from '../fixtures/cache-harness.js';
import { containedFailures, exchange, spawnBare, spawnFaulty, type FaultMode, type Observed } from '../support/faults.js';
import { freePort, ROOT, type RunningApp, type SpawnOptions } from '../support/processes.js';

const [redisUp, memcachedUp] = await Promise.all([reachable(REDIS_PORT), reachable(MEMCACHED_PORT)]);
const CLOSED_PORT = String(await freePort());

/** Faults in the cache code: ODM_FAULTS modes, and `replies` (reads start, their settling throws). */
type Fault = FaultMode | 'replies';
const REPLY_FAULTS = `${ROOT}test/fixtures/cache-faults.mjs`;

interface CacheApp {
  script: string;
  env: Record<string, string>;
  /** The fixture's steps, in order: each is a GET of /<step>. */
  steps: string[];
  /** The sites that fail, by fault: a read's start (both ODM_FAULTS modes), or its settling. */
  sites: { start: string[]; replies: string[] };
}

const APPS: Record<string, CacheApp> = {
  ioredis: {
    script: 'test/fixtures/cache-ioredis-app.mjs',
    env: { REDIS_PORT: String(REDIS_PORT), CLOSED_PORT },
    // Hits and misses, a multi-key read, a pipeline, transactions, and failing reads (WRONGTYPE, unreachable).
    steps: ['script', 'mget', 'pipeline', 'transaction', 'discarded', 'wrongType', 'sessions', 'tracked', 'unreachable', 'call', 'notReads'],
    sites: { start: ['cache ioredis exec', 'cache ioredis request hook'], replies: ['cache ioredis exec reply', 'cache ioredis reply'] },
  },
  'node-redis': {
    script: 'test/fixtures/cache-node-redis-app.mjs',
    env: { REDIS_PORT: String(REDIS_PORT), CLOSED_PORT },
    steps: ['script', 'mGet', 'multi', 'execAsPipeline', 'discarded', 'wrongType', 'sessions', 'unreachable', 'notReads'],
    sites: { start: ['cache node-redis span start'], replies: ['cache node-redis reply'] },
  },
  memcached: {
    script: 'test/fixtures/cache-memcached-app.mjs',
    env: { MEMCACHED_PORT: String(MEMCACHED_PORT), CLOSED_PORT },
    steps: ['script', 'getMulti', 'invalidKey', 'notReads', 'sessions', 'unreachable'],
    sites: { start: ['cache memcached query'], replies: ['cache memcached reply'] },
  },
  'in-process (trackCache)': {
    script: 'test/fixtures/cache-in-process-app.mjs',
    env: { REDIS_PORT: String(REDIS_PORT) },
    steps: ['map', 'lru', 'keyv', 'cacheManager', 'innerKeyv', 'layered', 'storeDirect', 'overRedis', 'failures'],
    sites: { start: ['cache trackCache read'], replies: ['cache trackCache reply'] },
  },
  'reads rejected before they are sent': {
    script: 'test/fixtures/cache-early-rejections-app.mjs',
    env: { PRIVATE_PORT: String(REDIS_PORT), MEMCACHED_PORT: String(MEMCACHED_PORT) },
    steps: ['ioredisQuit', 'nodeRedisQuit', 'memcachedOverLimit', 'memcachedEnded'],
    sites: {
      start: ['cache ioredis exec', 'cache ioredis request hook', 'cache memcached query', 'cache node-redis span start'],
      replies: ['cache ioredis early rejection', 'cache ioredis exec reply', 'cache ioredis reply', 'cache memcached reply', 'cache node-redis reply'],
    },
  },
};

const FAULTS: Fault[] = ['recorders', 'store', 'replies'];

function spawnWith(script: string, fault: Fault, options: SpawnOptions): Promise<RunningApp> {
  return fault === 'replies' ? spawnFaulty(script, [], { ...options, nodeArgs: ['--import', REPLY_FAULTS] }) : spawnFaulty(script, [fault], options);
}

/** Runs the app's steps in order, and says whether the process lived through them. */
async function observe(app: RunningApp, steps: string[]): Promise<{ seen: Observed[]; stderr: string; alive: boolean }> {
  try {
    const seen = await exchange(app, steps.map((step) => ({ path: `/${step}` })));
    return { seen, stderr: app.stderr(), alive: app.child.exitCode === null && app.child.signalCode === null };
  } finally {
    await app.stop();
  }
}

/** The site of each contained-failure line, sorted; a site logged twice shows twice. */
function failedSites(stderr: string): string[] {
  return containedFailures(stderr).map((line) => /ODM001 (.+?) failed;/.exec(line)?.[1] ?? line).sort();
}

/**
 * Never break the app, cache side: with the package's cache code made to throw (every recorder
 * method, every store write, or only the settling of a read), each fixture app answers every
 * step exactly as without the preload (hits, misses, failures, errors), the process lives on,
 * and each failing site is logged once with ODM001.
 */
for (const [name, app] of Object.entries(APPS)) {
  describe.runIf(shouldRun(redisUp && memcachedUp))(`${name}: the package's cache failures never reach the app`, () => {
    let bare: Observed[];

    beforeAll(async () => {
      requireServer('Redis on 127.0.0.1:6379 and memcached on 127.0.0.1:11211', redisUp && memcachedUp);
      ({ seen: bare } = await observe(await spawnBare(app.script, { env: app.env }), app.steps));
      expect(bare.map((o) => o.status)).toEqual(app.steps.map(() => 200));
    });

    for (const fault of FAULTS) {
      test(`${fault === 'replies' ? 'replies (answered/failed throw)' : `ODM_FAULTS=${fault}`}: the same results and errors as without the preload, the process survives, each failing site logged once`, async () => {
        const { seen, stderr, alive } = await observe(await spawnWith(app.script, fault, { env: app.env }), app.steps);
        expect(seen).toEqual(bare);
        expect(alive).toBe(true);
        // The fixture's own HTTP surface is instrumented too: its sites are the HTTP tests' concern.
        const sites = failedSites(stderr);
        expect(new Set(sites).size).toBe(sites.length);
        expect(sites.filter((site) => site.startsWith('cache '))).toEqual(fault === 'replies' ? app.sites.replies : app.sites.start);
        for (const line of containedFailures(stderr)) expect(line).toContain('injected fault: ');
      });
    }
  });
}
