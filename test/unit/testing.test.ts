import { metrics, type Counter } from '@opentelemetry/api';
import { AssertionError } from 'node:assert';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readConfig } from '../../src/config.js';
import { start } from '../../src/start.js';
import type { Distribution } from '../../src/state.js';
import {
  assertMetricCompare,
  assertMetricDiff,
  assertMetricEqual,
  assertMetricNoDiff,
  assertMetricNotEqual,
  formatLabels,
  formatVector,
  getMetric,
  getMetricFromFrozenRegistry,
  getMetricsVector,
  getMetricVectorFromFrozenRegistry,
  saveRegistry,
  type MetricsSource,
} from '../../src/testing/index.js';

const REQUESTS = 'django_http_requests_before_middlewares_total';
const BY_METHOD = 'django_http_requests_total_by_method_total';
const BY_STATUS = 'django_http_responses_total_by_status_total';
const RESPONSE_BODY = 'django_http_responses_body_total_bytes';

let distribution: Distribution;
let server: Server;
let url: string;
/** Server-side `finish` of every response; the recorder's own listener runs before ours. */
const completions: Promise<unknown>[] = [];
/** A user counter; each test uses its own `test` label value, so tests stay independent. */
let widgets: Counter;

beforeAll(async () => {
  distribution = (await start({ config: readConfig({ PROMETHEUS_METRICS_EXPORT_PORT: 'off' }, () => {}) }))!;
  widgets = metrics.getMeter('testing-test').createCounter('testing_widgets');
  server = createServer((_req, res) => {
    completions.push(once(res, 'finish'));
    res.end('hello'); // 5 bytes: response-body buckets le<=4 stay 0, le>=8 count it
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  server?.close();
  await distribution?.shutdown();
});

/** Sends a request and waits until the server has recorded its completion. */
async function request(method = 'GET'): Promise<void> {
  await (await fetch(url, { method })).text();
  await Promise.all(completions);
}

/** The AssertionError a promise rejects with. */
async function failure(assertion: Promise<void>): Promise<AssertionError> {
  const err = await assertion.then(
    () => expect.fail('the assertion passed'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AssertionError);
  return err as AssertionError;
}

/** Serves canned exposition text, standing in for another source than the running distribution. */
function fixedSource(text: string): MetricsSource {
  return { scrape: async () => text };
}

describe('saveRegistry', () => {
  test('is a snapshot that later traffic does not change', async () => {
    await request();
    const frozen = await saveRegistry();
    const before = getMetricFromFrozenRegistry(REQUESTS, frozen)!;
    expect(before).toBeGreaterThanOrEqual(1);
    await request();
    expect(getMetricFromFrozenRegistry(REQUESTS, frozen)).toBe(before);
    expect(await getMetric(REQUESTS)).toBe(before + 1);
  });

  test('is deep-frozen', async () => {
    await request();
    const frozen = await saveRegistry();
    const sample = frozen.find((s) => s.name === BY_METHOD)!;
    expect(Object.isFrozen(frozen)).toBe(true);
    expect(frozen.every((s) => Object.isFrozen(s) && Object.isFrozen(s.labels))).toBe(true);
    expect(() => (frozen as unknown as unknown[]).push(1)).toThrow(TypeError);
    expect(() => ((sample as { value: number }).value = 0)).toThrow(TypeError);
    expect(() => ((sample.labels as Record<string, string>).method = 'POST')).toThrow(TypeError);
  });

  test('reads the given source instead of the running distribution', async () => {
    const frozen = await saveRegistry(fixedSource('only_total{a="1"} 7.0\n'));
    expect(frozen).toEqual([{ name: 'only_total', labels: { a: '1' }, value: 7 }]);
  });

  test('reads a Distribution passed as source', async () => {
    await request();
    const frozen = await saveRegistry(distribution);
    expect(getMetricFromFrozenRegistry(REQUESTS, frozen)).toBe(await getMetric(REQUESTS));
  });
});

describe('getMetric', () => {
  test('returns the value of the sample with that exact name and label set, in any label order', async () => {
    widgets.add(2, { test: 'get', shape: 'round' });
    expect(await getMetric('testing_widgets_total', { test: 'get', shape: 'round' })).toBe(2);
    expect(await getMetric('testing_widgets_total', { shape: 'round', test: 'get' })).toBe(2);
  });

  test('returns undefined for a subset or superset of the labels, the family name or an unknown name', async () => {
    widgets.add(2, { test: 'get-miss', shape: 'round' });
    expect(await getMetric('testing_widgets_total', { test: 'get-miss' })).toBeUndefined();
    expect(await getMetric('testing_widgets_total', { test: 'get-miss', shape: 'round', extra: '' })).toBeUndefined();
    expect(await getMetric('testing_widgets', { test: 'get-miss', shape: 'round' })).toBeUndefined();
    expect(await getMetric('no_such_metric_total')).toBeUndefined();
    expect(await getMetric(RESPONSE_BODY)).toBeUndefined();
  });

  test('compares label values other than le as strings', async () => {
    await request();
    const count = (await getMetric(BY_STATUS, { status: '200' }))!;
    expect(count).toBeGreaterThanOrEqual(1);
    expect(await getMetric(BY_STATUS, { status: 200 })).toBe(count);
    expect(await getMetric(BY_STATUS, { status: '200.0' })).toBeUndefined();
  });

  test('compares le numerically', async () => {
    await request();
    const bucket = `${RESPONSE_BODY}_bucket`;
    const count = (await getMetric(`${RESPONSE_BODY}_count`))!;
    expect(count).toBeGreaterThanOrEqual(1);
    for (const le of [8, '8', '8.0', '8e0']) expect(await getMetric(bucket, { le })).toBe(count);
    for (const le of [4, '4.0']) expect(await getMetric(bucket, { le })).toBe(0);
    for (const le of [1048576, '1048576', '1.048576e+06']) expect(await getMetric(bucket, { le })).toBe(count);
    for (const le of [Infinity, '+Inf', 'Inf', 'inf']) expect(await getMetric(bucket, { le })).toBe(count);
    for (const le of [8.5, '', 'abc', -Infinity]) expect(await getMetric(bucket, { le })).toBeUndefined();
  });

  test('matches escaped label values by their decoded text', async () => {
    const shape = 'a "quoted" \\ back\nslash';
    widgets.add(3, { test: 'escape', shape });
    expect(await getMetric('testing_widgets_total', { test: 'escape', shape })).toBe(3);
  });
});

describe('getMetricsVector', () => {
  test('returns every sample of the name with its labels', async () => {
    const counter = metrics.getMeter('testing-test').createCounter('testing_vector');
    counter.add(1, { k: 'a' });
    counter.add(2, { k: 'b' });
    expect(await getMetricsVector('testing_vector_total')).toEqual([
      [{ k: 'a' }, 1],
      [{ k: 'b' }, 2],
    ]);
  });

  test('returns [] for an unknown name', async () => {
    expect(await getMetricsVector('no_such_metric_total')).toEqual([]);
  });

  test('on a snapshot, returns its samples as editable copies', async () => {
    const counter = metrics.getMeter('testing-test').createCounter('testing_frozen_vector');
    counter.add(1, { k: 'a' });
    const frozen = await saveRegistry();
    counter.add(1, { k: 'b' });
    const vector = getMetricVectorFromFrozenRegistry('testing_frozen_vector_total', frozen);
    expect(vector).toEqual([[{ k: 'a' }, 1]]);
    vector[0]![0].k = 'edited';
    expect(getMetricVectorFromFrozenRegistry('testing_frozen_vector_total', frozen)).toEqual([[{ k: 'a' }, 1]]);
    expect(await getMetricsVector('testing_frozen_vector_total')).toEqual([
      [{ k: 'a' }, 1],
      [{ k: 'b' }, 1],
    ]);
  });
});

describe('assertMetricEqual', () => {
  test('passes on the current value, and undefined passes for a missing series', async () => {
    widgets.add(5, { test: 'equal' });
    await assertMetricEqual(5, 'testing_widgets_total', { test: 'equal' });
    await assertMetricEqual(undefined, 'testing_widgets_total', { test: 'equal-missing' });
  });

  test('fails naming metric, labels, actual and expected values and the vector', async () => {
    const counter = metrics.getMeter('testing-test').createCounter('testing_equal');
    counter.add(1, { k: 'a' });
    counter.add(2, { k: 'b' });
    const err = await failure(assertMetricEqual(5, 'testing_equal_total', { k: 'a' }));
    expect(err.message).toBe(
      'testing_equal_total{k="a"} = 1, expected 5.\nThe values for testing_equal_total are:\n{k="a"} = 1\n{k="b"} = 2',
    );
    expect([err.actual, err.expected, err.operator]).toEqual([1, 5, '===']);
  });

  test('fails for a missing series, and for undefined when the series exists', async () => {
    widgets.add(1, { test: 'equal-fail' });
    const missing = await failure(assertMetricEqual(1, 'no_such_metric_total', { k: 'x' }));
    expect(missing.message).toBe('no_such_metric_total{k="x"} = undefined, expected 1.\nThe values for no_such_metric_total are:\n(no samples)');
    const present = await failure(assertMetricEqual(undefined, 'testing_widgets_total', { test: 'equal-fail' }));
    expect(present.message).toMatch(/^testing_widgets_total\{test="equal-fail"\} = 1, expected undefined\.\nThe values for testing_widgets_total are:\n/);
  });

  test('prints the vector of the source that was read, not the running distribution', async () => {
    widgets.add(1, { test: 'own-source' });
    const source = fixedSource('testing_widgets_total{test="elsewhere"} 9.0\n');
    const err = await failure(assertMetricEqual(1, 'testing_widgets_total', { test: 'own-source' }, source));
    expect(err.message).toBe(
      'testing_widgets_total{test="own-source"} = undefined, expected 1.\nThe values for testing_widgets_total are:\n{test="elsewhere"} = 9',
    );
  });
});

describe('assertMetricNotEqual', () => {
  test('passes on another value, and on a missing series for a defined expected value', async () => {
    widgets.add(2, { test: 'not-equal' });
    await assertMetricNotEqual(3, 'testing_widgets_total', { test: 'not-equal' });
    await assertMetricNotEqual(0, 'testing_widgets_total', { test: 'not-equal-missing' });
    await assertMetricNotEqual(undefined, 'testing_widgets_total', { test: 'not-equal' });
  });

  test('fails on the current value', async () => {
    const counter = metrics.getMeter('testing-test').createCounter('testing_not_equal');
    counter.add(2, { k: 'a' });
    const err = await failure(assertMetricNotEqual(2, 'testing_not_equal_total', { k: 'a' }));
    expect(err.message).toBe('testing_not_equal_total{k="a"} = 2, expected any other value.\nThe values for testing_not_equal_total are:\n{k="a"} = 2');
    expect([err.actual, err.expected, err.operator]).toEqual([2, 2, '!==']);
  });

  test('fails on undefined for a missing series', async () => {
    const err = await failure(assertMetricNotEqual(undefined, 'no_such_metric_total'));
    expect(err.message).toBe('no_such_metric_total{} = undefined, expected any other value.\nThe values for no_such_metric_total are:\n(no samples)');
  });
});

describe('assertMetricDiff', () => {
  test('passes on the change real HTTP traffic made, per sample and per le bucket', async () => {
    await request();
    const frozen = await saveRegistry();
    await request();
    await request('POST');
    await assertMetricDiff(frozen, 2, REQUESTS);
    await assertMetricDiff(frozen, 1, BY_METHOD, { method: 'POST' });
    await assertMetricDiff(frozen, 2, `${RESPONSE_BODY}_bucket`, { le: 8 });
    await assertMetricDiff(frozen, 0, `${RESPONSE_BODY}_bucket`, { le: '4.0' });
  });

  test('counts a series born after the snapshot from 0', async () => {
    const frozen = await saveRegistry();
    widgets.add(4, { test: 'diff-born' });
    await assertMetricDiff(frozen, 4, 'testing_widgets_total', { test: 'diff-born' });
  });

  test('fails on another change, naming both values, the change and the vector', async () => {
    const counter = metrics.getMeter('testing-test').createCounter('testing_diff');
    counter.add(3, { k: 'a' });
    const frozen = await saveRegistry();
    counter.add(2, { k: 'a' });
    const err = await failure(assertMetricDiff(frozen, 1, 'testing_diff_total', { k: 'a' }));
    expect(err.message).toBe(
      'testing_diff_total{k="a"} = 5 (was 3 before): changed by 2, expected a change of 1.\nThe values for testing_diff_total are:\n{k="a"} = 5',
    );
    expect([err.actual, err.expected, err.operator]).toEqual([2, 1, '===']);
  });

  test('fails when the series is missing now', async () => {
    const frozen = await saveRegistry();
    const err = await failure(assertMetricDiff(frozen, 0, 'testing_widgets_total', { test: 'diff-missing' }));
    expect(err.message).toMatch(/^testing_widgets_total\{test="diff-missing"\} is missing \(was undefined before\)\.\nThe values for testing_widgets_total are:\n\{/);
    expect(err.operator).toBe('exists');
  });
});

describe('assertMetricNoDiff', () => {
  test('passes on any other change, a series born after the snapshot counting from 0', async () => {
    widgets.add(1, { test: 'no-diff' });
    const frozen = await saveRegistry();
    widgets.add(1, { test: 'no-diff' });
    widgets.add(4, { test: 'no-diff-born' });
    await assertMetricNoDiff(frozen, 0, 'testing_widgets_total', { test: 'no-diff' });
    await assertMetricNoDiff(frozen, 0, 'testing_widgets_total', { test: 'no-diff-born' });
    const born = await failure(assertMetricNoDiff(frozen, 4, 'testing_widgets_total', { test: 'no-diff-born' }));
    expect(born.message).toMatch(/^testing_widgets_total\{test="no-diff-born"\} = 4 \(was undefined before\): changed by 4, expected any other change\.\n/);
  });

  test('fails on exactly the expected change', async () => {
    const counter = metrics.getMeter('testing-test').createCounter('testing_no_diff');
    counter.add(3, { k: 'a' });
    const frozen = await saveRegistry();
    counter.add(2, { k: 'a' });
    const err = await failure(assertMetricNoDiff(frozen, 2, 'testing_no_diff_total', { k: 'a' }));
    expect(err.message).toBe(
      'testing_no_diff_total{k="a"} = 5 (was 3 before): changed by 2, expected any other change.\nThe values for testing_no_diff_total are:\n{k="a"} = 5',
    );
    expect([err.actual, err.expected, err.operator]).toEqual([2, 2, '!==']);
  });

  test('fails when the series is missing now', async () => {
    const frozen = await saveRegistry();
    const err = await failure(assertMetricNoDiff(frozen, 1, 'no_such_metric_total'));
    expect(err.message).toBe('no_such_metric_total{} is missing (was undefined before).\nThe values for no_such_metric_total are:\n(no samples)');
  });
});

describe('assertMetricCompare', () => {
  test('passes the saved and current values to the predicate, undefined for a series born after the snapshot', async () => {
    widgets.add(1, { test: 'compare' });
    const frozen = await saveRegistry();
    widgets.add(2, { test: 'compare' });
    widgets.add(5, { test: 'compare-born' });
    const calls: Array<[number | undefined, number]> = [];
    const record = (saved: number | undefined, current: number) => calls.push([saved, current]) > 0;
    await assertMetricCompare(frozen, record, 'testing_widgets_total', { test: 'compare' });
    await assertMetricCompare(frozen, record, 'testing_widgets_total', { test: 'compare-born' });
    expect(calls).toEqual([
      [1, 3],
      [undefined, 5],
    ]);
  });

  test('fails unless the predicate returns exactly true', async () => {
    const counter = metrics.getMeter('testing-test').createCounter('testing_compare');
    counter.add(1, { k: 'a' });
    const frozen = await saveRegistry();
    counter.add(1, { k: 'a' });
    const truthy = (() => 1) as unknown as () => boolean;
    for (const predicate of [() => false, truthy]) {
      const err = await failure(assertMetricCompare(frozen, predicate, 'testing_compare_total', { k: 'a' }));
      expect(err.message).toBe(
        "testing_compare_total{k=\"a\"} = 2 (was 1 before): changed by 1, which didn't match the predicate.\nThe values for testing_compare_total are:\n{k=\"a\"} = 2",
      );
      expect(err.operator).toBe('compare');
    }
  });

  test('fails when the series is missing now, without calling the predicate', async () => {
    const frozen = await saveRegistry();
    let called = false;
    const err = await failure(assertMetricCompare(frozen, () => (called = true), 'no_such_metric_total'));
    expect(err.message).toBe('no_such_metric_total{} is missing (was undefined before).\nThe values for no_such_metric_total are:\n(no samples)');
    expect(called).toBe(false);
  });
});

describe('formatLabels and formatVector', () => {
  test('formatLabels writes {k="v",...} in the given order, escaping values', () => {
    expect(formatLabels({})).toBe('{}');
    expect(formatLabels({ method: 'GET', le: 128 })).toBe('{method="GET",le="128"}');
    expect(formatLabels({ v: 'a"b\\c\nd' })).toBe('{v="a\\"b\\\\c\\nd"}');
  });

  test('formatVector writes one {labels} = value line per sample', () => {
    expect(formatVector([])).toBe('');
    expect(
      formatVector([
        [{ a: '1' }, 2],
        [{}, 0.5],
      ]),
    ).toBe('{a="1"} = 2\n{} = 0.5');
  });
});
