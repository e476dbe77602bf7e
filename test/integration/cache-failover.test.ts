import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { counts, hasRedisServer, PrivateRedis, requireServer, shouldRun, TwinApps, type CacheCounts } from '../fixtures/cache-harness.js';

/**
 * A private redis-server killed (SIGKILL) in the middle of a run and started again: each failed
 * read counts in get_fail_total and nothing else, the app gets its usual errors, nothing hangs,
 * reads queued or in flight across the outage count once, and counts resume after the restart.
 */
describe.runIf(shouldRun(hasRedisServer))('Redis killed and restarted mid-run', () => {
  let redis: PrivateRedis;
  let twins: TwinApps;
  const run = (step: string, backend: string) => twins.run(step, backend);
  const total = (backend: string): CacheCounts => counts(twins.last, backend);
  const UP = ['ready', 'ready', true];

  beforeAll(async () => {
    requireServer('redis-server', hasRedisServer);
    redis = await PrivateRedis.start();
    twins = await TwinApps.start('test/fixtures/cache-failover-app.mjs', { PRIVATE_PORT: String(redis.port) });
    await twins.waitForStatus(UP);
    await run('seed', 'fast');
  });
  afterAll(async () => {
    await twins?.stop();
    await redis?.kill();
  });

  test('server up: each client reads a hit', async () => {
    expect((await run('read', 'fast')).added).toEqual({ get: 1, hits: 1, misses: 0, fail: 0 });
    expect(total('node-redis')).toEqual({ get: 1, hits: 1, misses: 0, fail: 0 });
  });

  test('server killed: each read fails with the client\'s usual error, no hit or miss', async () => {
    await redis.kill();
    await twins.waitForStatus(['reconnecting', 'reconnecting', false]);
    const { seen, added } = await run('read', 'fast');
    expect(seen).toEqual({
      ok: [
        { error: { name: 'MaxRetriesPerRequestError', message: 'Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.' } },
        { error: { name: 'ClientOfflineError', message: 'The client is offline' } },
      ],
    });
    expect(added).toEqual({ get: 1, hits: 0, misses: 0, fail: 1 });
    expect(total('node-redis')).toEqual({ get: 2, hits: 1, misses: 0, fail: 1 });
  });

  test('a read queued while the server is down is answered after the restart and counted once', async () => {
    expect((await run('readPending', 'patient')).added).toEqual({ get: 1, hits: 0, misses: 0, fail: 0 });
    await redis.restart();
    await twins.waitForStatus(UP);
    // The restarted server is empty: a miss. ioredis sent the command twice (offline queue, then flush).
    expect(await run('settle', 'patient')).toEqual({ seen: { ok: { ok: null } }, added: { get: 0, hits: 0, misses: 1, fail: 0 } });
  });

  test('after the restart, counts resume: misses on the empty server, then hits', async () => {
    expect((await run('read', 'fast')).added).toEqual({ get: 1, hits: 0, misses: 1, fail: 0 });
    await run('seed', 'fast');
    expect((await run('read', 'fast')).added).toEqual({ get: 1, hits: 1, misses: 0, fail: 0 });
    expect(total('node-redis')).toEqual({ get: 4, hits: 2, misses: 1, fail: 1 });
  });

  test('a read in flight when the server dies is resent after the restart and counted once', async () => {
    await redis.pause(60_000);
    expect((await run('readPending', 'patient')).added).toEqual({ get: 1, hits: 0, misses: 0, fail: 0 });
    await redis.kill();
    await redis.restart();
    await twins.waitForStatus(UP);
    expect(await run('settle', 'patient')).toEqual({ seen: { ok: { ok: null } }, added: { get: 0, hits: 0, misses: 1, fail: 0 } });
  });

  test('totals: every read settled as exactly one hit, miss or failure; no warning printed', () => {
    expect(total('fast')).toEqual({ get: 4, hits: 2, misses: 1, fail: 1 });
    expect(total('patient')).toEqual({ get: 2, hits: 0, misses: 2, fail: 0 });
    expect(total('node-redis')).toEqual({ get: 4, hits: 2, misses: 1, fail: 1 });
    expect(twins.app.stderr()).toBe('');
  });
});
