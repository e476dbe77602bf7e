import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { backends, counts, reachable, REDIS_PORT, requireServer, shouldRun, TwinApps } from '../fixtures/cache-harness.js';

const redisUp = await reachable(REDIS_PORT);

/**
 * In-process caches counted through trackCache (Map, lru-cache, keyv, cache-manager), nesting
 * (a lookup counts once, by the outermost tracked cache), and failures. Every step also runs
 * without the preload: results and errors must match. The keyv-over-node-redis case needs Redis.
 */
describe.runIf(shouldRun(redisUp))('trackCache', () => {
  let twins: TwinApps;
  const run = (step: string, backend: string) => twins.run(step, backend);

  beforeAll(async () => {
    requireServer('Redis on 127.0.0.1:6379', redisUp);
    twins = await TwinApps.start('test/fixtures/cache-in-process-app.mjs', { REDIS_PORT: String(REDIS_PORT) });
  });
  afterAll(() => twins?.stop());

  test('Map (default backend locmem): hit, miss, miss with a default, stored null is a miss, "" and 0 are hits; the Map is unchanged', async () => {
    expect(await run('map', 'locmem')).toEqual({
      seen: { ok: ['v', '<undefined>', 'default', null, '', 0, true, 4, [], true, ['k', 'null', 'empty', 'zero']] },
      added: { get: 6, hits: 3, misses: 3, fail: 0 },
    });
  });

  test('lru-cache under a given name: get counts, peek and has do not', async () => {
    expect(await run('lru', 'lru')).toEqual({ seen: { ok: ['v', '<undefined>', 'v', true, 1] }, added: { get: 2, hits: 1, misses: 1, fail: 0 } });
  });

  test('keyv: get, get([keys]) and getMany([keys]) count one get per key; has does not', async () => {
    expect(await run('keyv', 'keyv')).toEqual({
      seen: { ok: ['v', '<undefined>', ['v', '<undefined>', 0], ['v', '<undefined>'], true] },
      added: { get: 7, hits: 4, misses: 3, fail: 0 },
    });
  });

  test('cache-manager over a tracked keyv: get and mget count once, as cache-manager; wrap\'s lookup counts at the keyv', async () => {
    expect(await run('cacheManager', 'cache-manager')).toEqual({
      seen: { ok: ['v', '<undefined>', ['v', '<undefined>'], 'computed', true] },
      added: { get: 4, hits: 2, misses: 2, fail: 0 },
    });
    // wrap() is not a counted API: its store lookup (a miss) is counted by the tracked keyv below it.
    expect(counts(twins.last, 'inner-keyv')).toEqual({ get: 1, hits: 0, misses: 1, fail: 0 });
    // The inner keyv counts its own direct reads.
    expect((await run('innerKeyv', 'inner-keyv')).added).toEqual({ get: 2, hits: 1, misses: 1, fail: 0 });
  });

  test('keyv over a tracked lru-cache store: a keyv lookup counts once, as keyv; the store counts its direct reads', async () => {
    expect(await run('layered', 'layered')).toEqual({ seen: { ok: ['v', '<undefined>'] }, added: { get: 2, hits: 1, misses: 1, fail: 0 } });
    expect(counts(twins.last, 'store-lru')).toEqual({ get: 0, hits: 0, misses: 0, fail: 0 });
    expect(await run('storeDirect', 'store-lru')).toEqual({ seen: { ok: ['string', '<undefined>'] }, added: { get: 2, hits: 1, misses: 1, fail: 0 } });
  });

  test('keyv over a node-redis store adapter: backend redis detected, each lookup counted once; the client belongs to the cache', async () => {
    const before = counts(twins.last, 'redis');
    const { seen } = await run('overRedis', 'redis');
    expect(seen).toEqual({ ok: ['v', '<undefined>', expect.stringContaining('"value":"v"')] });
    // Two keyv lookups; neither the client GETs below them nor the app's direct GET on that client count again.
    expect(counts(twins.last, 'redis')).toEqual({ get: before.get + 2, hits: before.hits + 1, misses: before.misses + 1, fail: 0 });
  });

  test('failures: a throwing get and a rejecting keyv (throwOnErrors) fail with the app\'s usual errors; a lenient keyv reads a miss', async () => {
    expect(await run('failures', 'throwing')).toEqual({
      seen: {
        ok: [{ error: { name: 'RangeError', message: 'store broke' } }, { error: { name: 'Error', message: 'store down' } }, { ok: '<undefined>' }],
      },
      added: { get: 1, hits: 0, misses: 0, fail: 1 },
    });
    expect(counts(twins.last, 'strict-keyv')).toEqual({ get: 1, hits: 0, misses: 0, fail: 1 });
    expect(counts(twins.last, 'lenient-keyv')).toEqual({ get: 1, hits: 0, misses: 1, fail: 0 });
  });

  test('only the tracked names appear, and no warning was printed', () => {
    expect(backends(twins.last)).toEqual(['cache-manager', 'inner-keyv', 'keyv', 'layered', 'lenient-keyv', 'locmem', 'lru', 'redis', 'store-lru', 'strict-keyv', 'throwing']);
    expect(twins.app.stderr()).toBe('');
  });
});
