import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { setCacheBackend, trackCache } from '../../src/cache/public.js';
import { readConfig } from '../../src/config.js';
import { start } from '../../src/start.js';
import type { Distribution } from '../../src/state.js';
import { parseExposition, valueOf } from '../support/exposition.js';
import { captureStderr } from '../support/stderr.js';

/** trackCache and setCacheBackend in-process: the wrapped object's behaviour, names and misuse. */
let distribution: Distribution;
const stderr = captureStderr();

beforeAll(async () => {
  distribution = (await start({ config: readConfig({ PROMETHEUS_METRICS_EXPORT_PORT: 'off' }, () => {}) }))!;
});
afterAll(() => distribution?.shutdown());

async function counts(backend: string) {
  const exp = parseExposition(await distribution.scrape());
  const of = (name: string) => valueOf(exp, name, { backend }) ?? 0;
  return { get: of('django_cache_get_total'), hits: of('django_cache_get_hits_total'), misses: of('django_cache_get_misses_total'), fail: of('django_cache_get_fail_total') };
}

describe('the tracked object behaves exactly as before', () => {
  test('the same object is returned; a Map keeps its shape, and other Maps are not counted', async () => {
    const map = new Map([['k', 'v']]);
    expect(trackCache(map, 'shape')).toBe(map);
    expect([map instanceof Map, Object.keys(map), JSON.stringify([...map]), map.size, map.get('k')]).toEqual([true, [], '[["k","v"]]', 1, 'v']);
    new Map([['k', 'v']]).get('k');
    expect(Map.prototype.get.call(map, 'k')).toBe('v'); // the prototype is untouched: not counted
    expect(await counts('shape')).toEqual({ get: 1, hits: 1, misses: 0, fail: 0 });
  });

  test("an object literal's get stays an enumerable own property", () => {
    const cache = trackCache({ get: (k: string) => k }, 'literal');
    expect(Object.keys(cache)).toEqual(['get']);
    expect({ ...cache }.get('x')).toBe('x');
  });

  test('the return value, `this` and the arguments pass through: the very same promise object', async () => {
    const promise = Promise.resolve('v');
    const cache = trackCache(
      {
        seen: [] as unknown[],
        get(this: { seen: unknown[] }, ...args: unknown[]) {
          this.seen.push(this, ...args);
          return promise;
        },
      },
      'identity',
    );
    expect(cache.get('k', { raw: true })).toBe(promise);
    expect(cache.seen).toEqual([cache, 'k', { raw: true }]);
    await promise;
    expect(await counts('identity')).toEqual({ get: 1, hits: 1, misses: 0, fail: 0 });
  });

  test('a throw is rethrown as the same error object, a rejection stays the same rejection; both count as failures', async () => {
    const thrown = new TypeError('sync');
    const rejected = new RangeError('async');
    const failing = trackCache({ get: (k: string) => (k === 'sync' ? (() => { throw thrown; })() : Promise.reject(rejected)) }, 'failing');
    expect(() => failing.get('sync')).toThrow(thrown);
    await expect(failing.get('async')).rejects.toBe(rejected);
    expect(await counts('failing')).toEqual({ get: 2, hits: 0, misses: 0, fail: 2 });
  });

  test('tracking twice wraps once; the later name wins', async () => {
    const map = new Map([['k', 'v']]);
    trackCache(trackCache(map, 'first'), 'second');
    map.get('k');
    expect([await counts('first'), await counts('second')]).toEqual([{ get: 0, hits: 0, misses: 0, fail: 0 }, { get: 1, hits: 1, misses: 0, fail: 0 }]);
  });

  test('setCacheBackend renames a tracked cache', async () => {
    const map = trackCache(new Map(), 'before-rename');
    expect(setCacheBackend(map, 'after-rename')).toBe(map);
    map.get('k');
    expect(await counts('after-rename')).toEqual({ get: 1, hits: 0, misses: 1, fail: 0 });
    expect(await counts('before-rename')).toEqual({ get: 0, hits: 0, misses: 0, fail: 0 });
  });

  test('a bug in the counting is logged once and swallowed: the app still gets its value', () => {
    // keyv-shaped: get([keys]) with getMany is a multi-key read; this reply breaks the hit count.
    const hostile = new Proxy([], { get: () => { throw new Error('hostile reply'); } });
    const cache = trackCache({ get: (_keys: string[]) => hostile, getMany: () => [] }, 'hostile');
    expect(cache.get(['a'])).toBe(hostile);
    expect(cache.get(['a'])).toBe(hostile);
    expect(stderr).toEqual(['otel-django-metrics: ODM001 cache trackCache reply failed; the measurement is dropped and the app is unaffected: Error: hostile reply\n']);
  });
});

describe('misuse is reported once and changes nothing', () => {
  test('an object without get, or no object: one warning, returned unchanged', () => {
    const notACache = { fetch: () => 1 };
    expect(trackCache(notACache as never)).toBe(notACache);
    trackCache({} as never);
    expect(trackCache(null as never)).toBe(null);
    expect(Object.keys(notACache)).toEqual(['fetch']);
    expect(stderr).toEqual(['otel-django-metrics: trackCache: the object has no get method; not tracked\n']);
  });

  test('a frozen object: one contained failure, its get still works', () => {
    const frozen = Object.freeze({ get: (k: string) => k });
    expect(trackCache(frozen, 'frozen').get('x')).toBe('x');
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toMatch(/^otel-django-metrics: ODM001 cache trackCache failed; the measurement is dropped and the app is unaffected: TypeError: Cannot (redefine|define) property: get/);
  });

  test('invalid backend names are ignored, the first with one warning line; the default applies', async () => {
    for (const name of ['', 'x'.repeat(65), 42 as unknown as string]) trackCache(new Map(), name).get('k');
    expect(await counts('locmem')).toEqual({ get: 3, hits: 0, misses: 3, fail: 0 });
    expect(stderr).toEqual(['otel-django-metrics: trackCache: invalid backend name "" (expected a non-empty string of at most 64 characters); ignored, as are further invalid names\n']);
  });

  test('setCacheBackend on an object that is neither a client nor a tracked cache: one warning', () => {
    const plain = { sendCommand: () => 1 };
    expect(setCacheBackend(plain, 'x')).toBe(plain);
    expect(Object.keys(plain)).toEqual(['sendCommand']);
    expect(stderr).toEqual(['otel-django-metrics: setCacheBackend: not an ioredis, node-redis or memcached client, nor a tracked cache; ignored\n']);
  });
});

describe('without a running distribution', () => {
  test('calls pass through, nothing is counted, nothing is printed', async () => {
    const map = trackCache(new Map([['k', 'v']]), 'stopped');
    await distribution.shutdown();
    expect(map.get('k')).toBe('v');
    expect(stderr).toEqual([]);
  });
});
