import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { backends, counts, OLDER_MAJORS, reachable, REDIS_PORT, requireServer, shouldRun, TwinApps } from '../fixtures/cache-harness.js';
import { freePort } from '../support/processes.js';

const redisUp = await reachable(REDIS_PORT);

/** The newest and the oldest major the README claims (4 from 4.13: see ioredis-transactions.ts). */
const MAJORS = [
  { major: '6', script: 'test/fixtures/cache-ioredis-app.mjs', nodeArgs: [], replyError: 'SimpleError', callPrefixed: true },
  // ioredis 4 does not add the client's keyPrefix to call()'s key: that GET misses.
  { major: '4', script: 'test/fixtures/cache-versions/ioredis-app.mjs', nodeArgs: OLDER_MAJORS, replyError: 'ReplyError', callPrefixed: false },
];

/**
 * ioredis through @opentelemetry/instrumentation-ioredis, against the real Redis, reads outside any
 * request. Every step also runs in the same app without the preload: results and errors must match.
 */
describe.runIf(shouldRun(redisUp)).each(MAJORS)('ioredis $major', ({ major, script, nodeArgs, replyError, callPrefixed }) => {
  let twins: TwinApps;
  const run = (step: string, backend = 'redis') => twins.run(step, backend);

  beforeAll(async () => {
    requireServer('Redis on 127.0.0.1:6379', redisUp);
    twins = await TwinApps.start(script, { REDIS_PORT: String(REDIS_PORT), CLOSED_PORT: String(await freePort()) }, nodeArgs);
  });
  afterAll(() => twins?.stop());

  test(`the app runs ioredis ${major}`, async () => {
    expect((await run('version')).seen).toEqual({ ok: expect.stringMatching(new RegExp(`^${major}\\.`)) });
  });

  test('the four families are declared with their HELP before any read, without samples', () => {
    const { families, samples } = twins.last;
    expect(families.get('django_cache_get_total')).toEqual({ help: 'Total get requests on cache', type: 'counter' });
    expect(families.get('django_cache_get_hits_total')).toEqual({ help: 'Total hits on cache', type: 'counter' });
    expect(families.get('django_cache_get_misses_total')).toEqual({ help: 'Total misses on cache', type: 'counter' });
    expect(families.get('django_cache_get_fail_total')).toEqual({ help: 'Total get request failures by cache', type: 'counter' });
    expect(samples.filter((s) => s.name.startsWith('django_cache_'))).toEqual([]);
  });

  test('set, hit, hit (getBuffer), miss, miss answered with a default, "" and "0": 6 gets, 4 hits, 2 misses', async () => {
    const { seen, added } = await run('script');
    expect(seen).toEqual({ ok: ['OK', 'OK', 'OK', 'v', { buffer: 'v' }, null, 'default', '', '0'] });
    expect(added).toEqual({ get: 6, hits: 4, misses: 2, fail: 0 });
    // The backend's four series appear together at its first read.
    expect(twins.last.samples.filter((s) => s.name.startsWith('django_cache_')).map((s) => `${s.name} ${s.labels.backend} ${s.value}`)).toEqual([
      'django_cache_get_total redis 6',
      'django_cache_get_hits_total redis 4',
      'django_cache_get_misses_total redis 2',
      'django_cache_get_fail_total redis 0',
    ]);
  });

  test('mget counts one get per key, each a hit or a miss', async () => {
    expect(await run('mget')).toEqual({ seen: { ok: ['v', null, ''] }, added: { get: 3, hits: 2, misses: 1, fail: 0 } });
  });

  test('a pipeline counts its GETs and MGET keys from their own replies; its SET is no read', async () => {
    expect(await run('pipeline')).toEqual({
      seen: { ok: [[null, 'v'], [null, null], [null, 'OK'], [null, ['v', null]]] },
      added: { get: 4, hits: 2, misses: 2, fail: 0 },
    });
  });

  test('a MULTI/EXEC transaction counts its reads from their entries of the EXEC reply, not from "QUEUED"', async () => {
    expect(await run('transaction')).toEqual({
      seen: { ok: [[null, 'v'], [null, 'OK'], [null, null], [null, ['v', '0']]] },
      added: { get: 4, hits: 3, misses: 1, fail: 0 },
    });
  });

  test('a discarded transaction (its WATCHed key changed: EXEC answers null) fails its read', async () => {
    expect(await run('discarded')).toEqual({ seen: { ok: null }, added: { get: 1, hits: 0, misses: 0, fail: 1 } });
  });

  test('a rejected GET (WRONGTYPE) fails; the app gets its usual error', async () => {
    expect(await run('wrongType')).toEqual({
      seen: { ok: { error: { name: replyError, message: 'WRONGTYPE Operation against a key holding the wrong kind of value' } } },
      added: { get: 1, hits: 0, misses: 0, fail: 1 },
    });
  });

  test('call("GET", key) is a GET; other reading commands (HGET, GETDEL, EXISTS, GETRANGE) are not', async () => {
    expect(await run('call')).toEqual(callPrefixed ? { seen: { ok: 'v' }, added: { get: 1, hits: 1, misses: 0, fail: 0 } } : { seen: { ok: null }, added: { get: 1, hits: 0, misses: 1, fail: 0 } });
    expect(await run('notReads')).toEqual({ seen: { ok: [null, null, 1, 'v'] }, added: { get: 0, hits: 0, misses: 0, fail: 0 } });
  });

  test('setCacheBackend names one client: its GETs, pipelines and transactions count under that name only', async () => {
    const redisBefore = counts(twins.last, 'redis');
    expect(await run('sessions', 'sessions')).toEqual({ seen: { ok: ['v', null, [[null, 'v']], [[null, 'v']]] }, added: { get: 4, hits: 3, misses: 1, fail: 0 } });
    expect(counts(twins.last, 'redis')).toEqual(redisBefore);
  });

  test('trackCache on a client only names it: each read counts once', async () => {
    expect(await run('tracked', 'tracked-client')).toEqual({ seen: { ok: ['v', ['v', null]] }, added: { get: 3, hits: 2, misses: 1, fail: 0 } });
  });

  test('a client pointed at a port with nothing listening: each read fails, the app gets its usual error', async () => {
    const maxRetries = { name: 'MaxRetriesPerRequestError', message: 'Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.' };
    expect(await run('unreachable')).toEqual({ seen: { ok: [{ error: maxRetries }, { error: maxRetries }] }, added: { get: 3, hits: 0, misses: 0, fail: 3 } });
  });

  test('totals: every get settled as exactly one hit, miss or failure; only the two named backends; no warning printed', () => {
    expect(counts(twins.last, 'redis')).toEqual(callPrefixed ? { get: 23, hits: 12, misses: 6, fail: 5 } : { get: 23, hits: 11, misses: 7, fail: 5 });
    expect(backends(twins.last)).toEqual(['redis', 'sessions', 'tracked-client']);
    expect(twins.app.stderr()).toBe('');
  });
});
