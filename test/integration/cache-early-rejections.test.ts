import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { counts, hasRedisServer, MEMCACHED_PORT, PrivateRedis, reachable, requireServer, shouldRun, TwinApps } from '../fixtures/cache-harness.js';

const memcachedUp = await reachable(MEMCACHED_PORT);

/**
 * Reads a client rejects before sending them (after quit(), while the server is down with the
 * offline queue disabled, over memcached's queue limit) count in get_total and then as failures,
 * never as nothing: every read ends as exactly one hit, miss or failure. Every step also runs
 * without the preload: results and errors must match.
 */
describe.runIf(shouldRun(hasRedisServer && memcachedUp))('reads rejected before they are sent', () => {
  let redis: PrivateRedis;
  let twins: TwinApps;
  const run = (step: string, backend: string) => twins.run(step, backend);
  const closed = { error: { name: 'Error', message: 'Connection is closed.' } };
  const clientClosed = { error: { name: 'ClientClosedError', message: 'The client is closed' } };

  beforeAll(async () => {
    requireServer('redis-server', hasRedisServer);
    requireServer('memcached on 127.0.0.1:11211', memcachedUp);
    redis = await PrivateRedis.start();
    twins = await TwinApps.start('test/fixtures/cache-early-rejections-app.mjs', { PRIVATE_PORT: String(redis.port), MEMCACHED_PORT: String(MEMCACHED_PORT) });
    await twins.waitForStatus(['ready', true]);
  });
  afterAll(async () => {
    await twins?.stop();
    await redis?.kill();
  });

  test('ioredis after quit(): get, getBuffer, mget (2 keys), a pipeline GET and a MULTI GET each fail', async () => {
    const { seen, added } = await run('ioredisQuit', 'ioredis-quit');
    expect(seen).toEqual({ ok: [null, 'OK', closed, closed, closed, { ok: [[{}]] }, closed] });
    expect(added).toEqual({ get: 7, hits: 0, misses: 1, fail: 6 });
  });

  test('node-redis after quit(): get, sendCommand GET, mGet (2 keys), a MULTI GET and a pipelined GET each fail', async () => {
    const { seen, added } = await run('nodeRedisQuit', 'node-redis-quit');
    expect((seen as { ok: unknown[] }).ok).toEqual([null, 'OK', clientClosed, clientClosed, clientClosed, clientClosed, clientClosed]);
    expect(added).toEqual({ get: 7, hits: 0, misses: 1, fail: 6 });
  });

  test('server down, offline queue disabled: each read is refused at once and fails; after the restart reads are answered', async () => {
    await redis.kill();
    await twins.waitForStatus(['reconnecting', false]);
    const unwritable = { error: { name: 'Error', message: "Stream isn't writeable and enableOfflineQueue options is false" } };
    const offline = { error: { name: 'ClientOfflineError', message: 'The client is offline' } };
    // The pipeline resolves to [[error, undefined]]; the error object serializes as {}.
    expect((await run('offlineReads', 'ioredis-offline')).seen).toEqual({ ok: [unwritable, unwritable, { ok: [[{}]] }, offline, offline] });
    expect(counts(twins.last, 'ioredis-offline')).toEqual({ get: 4, hits: 0, misses: 0, fail: 4 });
    expect(counts(twins.last, 'node-redis-offline')).toEqual({ get: 3, hits: 0, misses: 0, fail: 3 });
    await redis.restart();
    await twins.waitForStatus(['ready', true]);
    await run('offlineReads', 'ioredis-offline');
    expect(counts(twins.last, 'ioredis-offline')).toEqual({ get: 8, hits: 0, misses: 4, fail: 4 });
    expect(counts(twins.last, 'node-redis-offline')).toEqual({ get: 6, hits: 0, misses: 3, fail: 3 });
  });

  test('memcached over its queue limit: the refused read fails, the other is answered', async () => {
    expect(await run('memcachedOverLimit', 'memcached-limited')).toEqual({
      seen: { ok: [{ ok: '<undefined>' }, { error: { name: 'String', message: 'over queue limit' } }] },
      added: { get: 2, hits: 0, misses: 1, fail: 1 },
    });
  });

  test('memcached after end(): the next read reconnects and is answered', async () => {
    expect(await run('memcachedEnded', 'memcached-ended')).toEqual({ seen: { ok: ['<undefined>', { ok: '<undefined>' }] }, added: { get: 2, hits: 0, misses: 2, fail: 0 } });
  });

  test('no warning printed', () => {
    expect(twins.app.stderr()).toBe('');
  });
});
