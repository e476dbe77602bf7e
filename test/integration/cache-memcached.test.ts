import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { backends, counts, MEMCACHED_PORT, reachable, requireServer, shouldRun, TwinApps } from '../fixtures/cache-harness.js';
import { freePort } from '../support/processes.js';

const memcachedUp = await reachable(MEMCACHED_PORT);

/**
 * memcached (the `memcached` package) through @opentelemetry/instrumentation-memcached, against
 * the real memcached server, imported from an ES module. Every step also runs without the
 * preload: results and errors must match.
 */
describe.runIf(shouldRun(memcachedUp))('memcached', () => {
  let twins: TwinApps;
  const run = (step: string, backend = 'memcached') => twins.run(step, backend);

  beforeAll(async () => {
    requireServer('memcached on 127.0.0.1:11211', memcachedUp);
    twins = await TwinApps.start('test/fixtures/cache-memcached-app.mjs', { MEMCACHED_PORT: String(MEMCACHED_PORT), CLOSED_PORT: String(await freePort()) });
  });
  afterAll(() => twins?.stop());

  test('set, hit, hit, miss, miss answered with a default, "" and 0: 6 gets, 4 hits, 2 misses', async () => {
    expect(await run('script')).toEqual({ seen: { ok: [true, true, true, 'v', 'v', '<undefined>', 'default', '', 0] }, added: { get: 6, hits: 4, misses: 2, fail: 0 } });
  });

  test('getMulti (or get with an array) counts one get per key, each a hit or a miss', async () => {
    expect(await run('getMulti')).toEqual({ seen: { ok: [{ k: 'v', zero: 0 }, { k: 'v' }] }, added: { get: 5, hits: 3, misses: 2, fail: 0 } });
  });

  test('a read the client refuses (a key with whitespace) fails; the app gets its usual error', async () => {
    expect(await run('invalidKey')).toEqual({
      seen: { ok: { error: { name: 'Error', message: 'The key should not contain any whitespace or new lines' } } },
      added: { get: 1, hits: 0, misses: 0, fail: 1 },
    });
  });

  test('gets and touch are not counted', async () => {
    expect(await run('notReads')).toEqual({ seen: { ok: ['string', true] }, added: { get: 0, hits: 0, misses: 0, fail: 0 } });
  });

  test('setCacheBackend names one client', async () => {
    const before = counts(twins.last, 'memcached');
    expect(await run('sessions', 'sessions')).toEqual({ seen: { ok: ['v', '<undefined>'] }, added: { get: 2, hits: 1, misses: 1, fail: 0 } });
    expect(counts(twins.last, 'memcached')).toEqual(before);
  });

  test('a client pointed at a port with nothing listening: each read fails, the app gets its usual error', async () => {
    const { seen, added } = await run('unreachable');
    const errors = (seen as { ok: Array<{ error: { message: string } }> }).ok.map((o) => o.error.message);
    expect(errors[0]).toMatch(/^connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
    expect(errors[1]).toMatch(/^Server at 127\.0\.0\.1:\d+ not available$/);
    expect(added).toEqual({ get: 2, hits: 0, misses: 0, fail: 2 });
  });

  test('totals: every get settled once; only the two named backends; no warning printed', () => {
    expect(counts(twins.last, 'memcached')).toEqual({ get: 14, hits: 7, misses: 4, fail: 3 });
    expect(backends(twins.last)).toEqual(['memcached', 'sessions']);
    expect(twins.app.stderr()).toBe('');
  });
});
