import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { backends, counts, hasRedisServer, PrivateRedis, requireServer, shouldRun, TwinApps } from '../fixtures/cache-harness.js';

const MOVED_KEY = 'moved-key';
const CLUSTER = (dir: string) => ['--cluster-enabled', 'yes', '--cluster-config-file', `${dir}/nodes.conf`, '--cluster-announce-ip', '127.0.0.1', '--dir', dir];

/** Starts a node of a private cluster with its own config directory. */
async function clusterNode(dir: string): Promise<PrivateRedis> {
  await mkdir(dir);
  return PrivateRedis.start(CLUSTER(dir));
}

/**
 * ioredis Cluster in a CommonJS app, against a private two-node Redis cluster (node A holds every
 * slot): reads count as for a single client, and a read redirected by MOVED counts once.
 */
describe.runIf(shouldRun(hasRedisServer))('ioredis Cluster', () => {
  let a: PrivateRedis;
  let b: PrivateRedis;
  let twins: TwinApps;
  let dir: string;
  const run = (step: string, backend = 'redis') => twins.run(step, backend);

  beforeAll(async () => {
    requireServer('redis-server', hasRedisServer);
    dir = await mkdtemp(`${tmpdir()}/cache-cluster-`);
    [a, b] = await Promise.all([clusterNode(`${dir}/a`), clusterNode(`${dir}/b`)]);
    expect(await a.command('CLUSTER', 'ADDSLOTSRANGE', '0', '16383')).toBe('+OK');
    expect(await a.command('CLUSTER', 'MEET', '127.0.0.1', String(b.port))).toBe('+OK');
    for (let i = 0; i < 200 && !(await b.command('CLUSTER', 'INFO')).includes('cluster_state:ok'); i++) await sleep(25);
    twins = await TwinApps.start('test/fixtures/cache-cluster-app.cjs', { CLUSTER_PORT: String(a.port), MOVED_KEY });
  });
  afterAll(async () => {
    await twins?.stop();
    await Promise.all([a?.kill(), b?.kill()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('get, getBuffer, a miss and mget (one get per key)', async () => {
    expect(await run('script')).toEqual({ seen: { ok: ['OK', 'v', { buffer: 'v' }, null, ['v', null]] }, added: { get: 5, hits: 3, misses: 2, fail: 0 } });
  });

  test('pipelines and MULTI transactions count each GET once', async () => {
    expect(await run('pipeline')).toEqual({ seen: { ok: [[null, 'v'], [null, null]] }, added: { get: 2, hits: 1, misses: 1, fail: 0 } });
    expect(await run('transaction')).toEqual({ seen: { ok: [[null, 'v'], [null, null]] }, added: { get: 2, hits: 1, misses: 1, fail: 0 } });
  });

  test('setCacheBackend names a Cluster client, its transactions included', async () => {
    expect(await run('named', 'sessions')).toEqual({ seen: { ok: ['v', [[null, null]]] }, added: { get: 2, hits: 1, misses: 1, fail: 0 } });
  });

  test('a read redirected by MOVED is counted once, by its final reply (no failure)', async () => {
    const slot = await a.command('CLUSTER', 'KEYSLOT', MOVED_KEY);
    const bId = await b.command('CLUSTER', 'MYID');
    expect(await b.command('CLUSTER', 'SETSLOT', slot.slice(1), 'NODE', bId)).toBe('+OK');
    expect(await a.command('CLUSTER', 'SETSLOT', slot.slice(1), 'NODE', bId)).toBe('+OK');
    // Node A, the one the clients know for that slot, now redirects.
    expect(await a.command('GET', MOVED_KEY)).toBe(`-MOVED ${slot.slice(1)} 127.0.0.1:${b.port}`);
    expect(await run('readMoved')).toEqual({ seen: { ok: { ok: null } }, added: { get: 1, hits: 0, misses: 1, fail: 0 } });
  });

  test('totals, and no warning printed', () => {
    expect(counts(twins.last, 'redis')).toEqual({ get: 10, hits: 5, misses: 5, fail: 0 });
    expect(backends(twins.last)).toEqual(['redis', 'sessions']);
    expect(twins.app.stderr()).toBe('');
  });
});
