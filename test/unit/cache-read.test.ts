import { describe, expect, test } from 'vitest';
import { Read, readKeys } from '../../src/cache/read.js';
import { CacheRecorder } from '../../src/cache/recorder.js';
import { writeExposition } from '../../src/exposition/prometheus-text.js';
import { Registry } from '../../src/store/registry.js';
import { parseExposition, valueOf } from '../support/exposition.js';

function recorder() {
  const registry = new Registry({ namespace: '', latencyBuckets: [1], maxSeriesPerMetric: 100 });
  const counts = async (backend = 'redis') => {
    const out: string[] = [];
    await writeExposition(registry.collect(), out);
    const exp = parseExposition(out.join(''));
    const of = (name: string) => valueOf(exp, name, { backend });
    return { get: of('django_cache_get_total'), hits: of('django_cache_get_hits_total'), misses: of('django_cache_get_misses_total'), fail: of('django_cache_get_fail_total') };
  };
  return { recorder: new CacheRecorder(registry), counts };
}

describe('readKeys: which commands are reads', () => {
  test('GET is one key, MGET one per argument, in any case', () => {
    expect(readKeys('get', 1)).toEqual({ keys: 1, many: false });
    expect(readKeys('GET', 1)).toEqual({ keys: 1, many: false });
    expect(readKeys('gEt', 1)).toEqual({ keys: 1, many: false });
    expect(readKeys('mget', 3)).toEqual({ keys: 3, many: true });
    expect(readKeys('MGET', 2)).toEqual({ keys: 2, many: true });
  });

  test('other commands, and an MGET without keys, are not', () => {
    for (const command of ['set', 'SET', 'getex', 'getdel', 'hget', 'getrange', 'gets', 'exists', 'multi', 'exec', 'ge', 'gex', 'g\u0007t', 'mgeT2', '']) {
      expect(readKeys(command, 1), command).toBeUndefined();
    }
    expect(readKeys('mget', 0)).toBeUndefined();
  });
});

describe('Read: counted at the call, settled once', () => {
  test('get_total counts at the call; the four series of a backend appear together', async () => {
    const { recorder: r, counts } = recorder();
    new Read(r, 'redis', 1, false);
    expect(await counts()).toEqual({ get: 1, hits: 0, misses: 0, fail: 0 });
    expect(await counts('other')).toEqual({ get: undefined, hits: undefined, misses: undefined, fail: undefined });
  });

  test('a hit is any value but null and undefined', async () => {
    const { recorder: r, counts } = recorder();
    for (const value of ['v', '', 0, false, Number.NaN, Buffer.alloc(0), []]) new Read(r, 'redis', 1, false).answer(value);
    for (const value of [null, undefined]) new Read(r, 'redis', 1, false).answer(value);
    expect(await counts()).toEqual({ get: 9, hits: 7, misses: 2, fail: 0 });
  });

  test('a multi-key read counts its hits among its keys, the rest as misses', async () => {
    const { recorder: r, counts } = recorder();
    new Read(r, 'redis', 3, true).answer(['a', null, '']);
    new Read(r, 'redis', 2, true).answer(['a', 'b', 'extra']); // never more hits than keys
    new Read(r, 'redis', 2, true).answer(null); // not an array: all misses
    expect(await counts()).toEqual({ get: 7, hits: 4, misses: 3, fail: 0 });
  });

  test('only the first outcome counts: a failure after a reply, or a second reply, is ignored', async () => {
    const { recorder: r, counts } = recorder();
    const answered = new Read(r, 'redis', 1, false);
    answered.answer('v');
    answered.fail();
    answered.answer(null);
    const failed = new Read(r, 'redis', 2, true);
    failed.fail();
    failed.answer(['a', 'b']);
    expect([answered.settled, failed.settled]).toEqual([true, true]);
    expect(await counts()).toEqual({ get: 3, hits: 1, misses: 0, fail: 2 });
  });
});
