import { AssertionError } from 'node:assert';
import { describe, expect, test } from 'vitest';
import { currentDistribution } from '../../src/state.js';
import {
  assertMetricCompare,
  assertMetricDiff,
  assertMetricEqual,
  assertMetricNoDiff,
  assertMetricNotEqual,
  getMetric,
  getMetricsVector,
  saveRegistry,
} from '../../src/testing/index.js';

const NO_DISTRIBUTION =
  'otel-django-metrics/testing: no distribution is running and no source was given; ' +
  'load otel-django-metrics/register (or call start()) before reading metrics, or pass a source';

describe('without a running distribution', () => {
  test('there is none in this process', () => {
    expect(currentDistribution()).toBeUndefined();
  });

  test.each([
    ['saveRegistry', () => saveRegistry()],
    ['getMetric', () => getMetric('a_total')],
    ['getMetricsVector', () => getMetricsVector('a_total')],
    ['assertMetricEqual', () => assertMetricEqual(1, 'a_total')],
    ['assertMetricNotEqual', () => assertMetricNotEqual(1, 'a_total')],
    ['assertMetricDiff', () => assertMetricDiff([], 1, 'a_total')],
    ['assertMetricNoDiff', () => assertMetricNoDiff([], 1, 'a_total')],
    ['assertMetricCompare', () => assertMetricCompare([], () => true, 'a_total')],
  ])('%s rejects with a plain Error saying so', async (_, read) => {
    const err = await read().then(
      () => expect.fail('it resolved'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(AssertionError);
    expect((err as Error).message).toBe(NO_DISTRIBUTION);
  });

  test('a given source is read', async () => {
    const source = { scrape: async () => '# TYPE a_total counter\na_total{k="v"} 2.0\n' };
    expect(await getMetric('a_total', { k: 'v' }, source)).toBe(2);
    await assertMetricEqual(2, 'a_total', { k: 'v' }, source);
  });

  test('text a source serves that is not the exposition format rejects, naming the line', async () => {
    const source = { scrape: async () => 'a_total 1.0\n<html>\n' };
    await expect(getMetric('a_total', {}, source)).rejects.toThrow('otel-django-metrics/testing: cannot parse exposition line 2: <html>');
  });
});
