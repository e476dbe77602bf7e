import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { backends, counts, OLDER_MAJORS, reachable, REDIS_PORT, requireServer, shouldRun, TwinApps } from '../fixtures/cache-harness.js';
import { freePort } from '../support/processes.js';

const redisUp = await reachable(REDIS_PORT);

/** The newest and the oldest major the README claims. */
const MAJORS = [
  { major: '5', script: 'test/fixtures/cache-node-redis-app.mjs', nodeArgs: [], replyError: 'SimpleError' },
  { major: '4', script: 'test/fixtures/cache-versions/node-redis-app.mjs', nodeArgs: OLDER_MAJORS, replyError: 'ErrorReply' },
];

/**
 * node-redis (@redis/client) through @opentelemetry/instrumentation-redis, against the real
 * Redis. Every step also runs without the preload: results and errors must match.
 */
describe.runIf(shouldRun(redisUp)).each(MAJORS)('node-redis $major', ({ major, script, nodeArgs, replyError }) => {
  let twins: TwinApps;
  const run = (step: string, backend = 'redis') => twins.run(step, backend);

  beforeAll(async () => {
    requireServer('Redis on 127.0.0.1:6379', redisUp);
    twins = await TwinApps.start(script, { REDIS_PORT: String(REDIS_PORT), CLOSED_PORT: String(await freePort()) }, nodeArgs);
  });
  afterAll(() => twins?.stop());

  test(`the app runs node-redis ${major}`, async () => {
    expect((await run('version')).seen).toEqual({ ok: expect.stringMatching(new RegExp(`^${major}\\.`)) });
  });

  test('set, hit, hit (sendCommand), miss, miss answered with a default, "" and "0": 6 gets, 4 hits, 2 misses', async () => {
    expect(await run('script')).toEqual({ seen: { ok: ['OK', 'OK', 'OK', 'v', 'v', null, 'default', '', '0'] }, added: { get: 6, hits: 4, misses: 2, fail: 0 } });
  });

  test('mGet counts one get per key, each a hit or a miss', async () => {
    expect(await run('mGet')).toEqual({ seen: { ok: ['v', null, ''] }, added: { get: 3, hits: 2, misses: 1, fail: 0 } });
  });

  test('a MULTI transaction counts its reads from their entries of the EXEC reply', async () => {
    expect(await run('multi')).toEqual({ seen: { ok: ['v', 'OK', null, ['v', '0']] }, added: { get: 4, hits: 3, misses: 1, fail: 0 } });
  });

  test('execAsPipeline counts its GETs from their own replies', async () => {
    expect(await run('execAsPipeline')).toEqual({ seen: { ok: ['v', null] }, added: { get: 2, hits: 1, misses: 1, fail: 0 } });
  });

  test('a discarded transaction (WatchError) fails its read; the app gets its usual error', async () => {
    expect(await run('discarded')).toEqual({
      seen: { ok: { error: { name: 'WatchError', message: 'One (or more) of the watched keys has been changed' } } },
      added: { get: 1, hits: 0, misses: 0, fail: 1 },
    });
  });

  test('a rejected GET (WRONGTYPE) fails; the app gets its usual error', async () => {
    expect(await run('wrongType')).toEqual({
      seen: { ok: { error: { name: replyError, message: 'WRONGTYPE Operation against a key holding the wrong kind of value' } } },
      added: { get: 1, hits: 0, misses: 0, fail: 1 },
    });
  });

  test('other reading commands (HGET, GETDEL, EXISTS, GETRANGE) are not counted', async () => {
    expect(await run('notReads')).toEqual({ seen: { ok: [null, null, 1, 'v'] }, added: { get: 0, hits: 0, misses: 0, fail: 0 } });
  });

  test('setCacheBackend names one client, its MULTI and (node-redis 5) its withCommandOptions() views included', async () => {
    const redisBefore = counts(twins.last, 'redis');
    expect(await run('sessions', 'sessions')).toEqual({ seen: { ok: ['v', ['v', null], ['v'], 'v'] }, added: { get: 5, hits: 4, misses: 1, fail: 0 } });
    expect(counts(twins.last, 'redis')).toEqual(redisBefore);
  });

  test('a client pointed at a port with nothing listening: each read fails, the app gets its usual error', async () => {
    const { seen, added } = await run('unreachable');
    const errors = (seen as { ok: Array<{ error: { name: string; message: string } }> }).ok.map((o) => o.error);
    expect(errors.map((e) => e.name)).toEqual(['Error', 'ClientClosedError', 'ClientClosedError']);
    expect(errors[0]!.message).toMatch(/^connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
    expect(added).toEqual({ get: 3, hits: 0, misses: 0, fail: 3 });
  });

  test('totals: every get settled once; only the two named backends; no warning printed', () => {
    expect(counts(twins.last, 'redis')).toEqual({ get: 20, hits: 10, misses: 5, fail: 5 });
    expect(backends(twins.last)).toEqual(['redis', 'sessions']);
    expect(twins.app.stderr()).toBe('');
  });
});
