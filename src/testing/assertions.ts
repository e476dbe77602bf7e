import { AssertionError } from 'node:assert';
import { formatLabels, formatVector } from './format.js';
import {
  getMetricFromFrozenRegistry,
  getMetricVectorFromFrozenRegistry,
  saveRegistry,
  type FrozenRegistry,
  type LabelQuery,
} from './registry.js';
import type { MetricsSource } from './source.js';

/** Decides whether a change passed: `saved` is `undefined` for a series born after the snapshot. */
export type MetricPredicate = (saved: number | undefined, current: number) => boolean;

/** Passes when the sample's value is `expected`; `undefined` asserts the sample is absent. */
export async function assertMetricEqual(
  expected: number | undefined,
  name: string,
  labels: LabelQuery = {},
  source?: MetricsSource,
): Promise<void> {
  const now = await saveRegistry(source);
  const actual = getMetricFromFrozenRegistry(name, now, labels);
  if (actual !== expected) {
    fail(`${sampleId(name, labels)} = ${actual}, expected ${expected}.`, name, now, { actual, expected, operator: '===' });
  }
}

/** Passes when the sample's value is not `expected`; a missing sample passes for any defined `expected`. */
export async function assertMetricNotEqual(
  expected: number | undefined,
  name: string,
  labels: LabelQuery = {},
  source?: MetricsSource,
): Promise<void> {
  const now = await saveRegistry(source);
  const actual = getMetricFromFrozenRegistry(name, now, labels);
  if (actual === expected) {
    fail(`${sampleId(name, labels)} = ${actual}, expected any other value.`, name, now, { actual, expected, operator: '!==' });
  }
}

/** Passes when the sample exists and grew by exactly `expectedDiff` since `frozen` (absent then = 0). */
export async function assertMetricDiff(
  frozen: FrozenRegistry,
  expectedDiff: number,
  name: string,
  labels: LabelQuery = {},
  source?: MetricsSource,
): Promise<void> {
  const c = await change(frozen, name, labels, source);
  if (c.diff !== expectedDiff) {
    fail(`${c.summary}, expected a change of ${expectedDiff}.`, name, c.now, { actual: c.diff, expected: expectedDiff, operator: '===' });
  }
}

/** Passes when the sample exists and its change since `frozen` (absent then = 0) is not `expectedDiff`. */
export async function assertMetricNoDiff(
  frozen: FrozenRegistry,
  expectedDiff: number,
  name: string,
  labels: LabelQuery = {},
  source?: MetricsSource,
): Promise<void> {
  const c = await change(frozen, name, labels, source);
  if (c.diff === expectedDiff) {
    fail(`${c.summary}, expected any other change.`, name, c.now, { actual: c.diff, expected: expectedDiff, operator: '!==' });
  }
}

/** Passes when the sample exists and `predicate(saved, current)` returns exactly `true`. */
export async function assertMetricCompare(
  frozen: FrozenRegistry,
  predicate: MetricPredicate,
  name: string,
  labels: LabelQuery = {},
  source?: MetricsSource,
): Promise<void> {
  const c = await change(frozen, name, labels, source);
  if (predicate(c.saved, c.current) !== true) {
    fail(`${c.summary}, which didn't match the predicate.`, name, c.now, { operator: 'compare' });
  }
}

interface Change {
  now: FrozenRegistry;
  saved: number | undefined;
  current: number;
  diff: number;
  /** `name{labels} = current (was saved before): changed by diff` */
  summary: string;
}

/** The sample in `frozen` and now; a missing current sample fails the assertion. */
async function change(frozen: FrozenRegistry, name: string, labels: LabelQuery, source: MetricsSource | undefined): Promise<Change> {
  const now = await saveRegistry(source);
  const id = sampleId(name, labels);
  const saved = getMetricFromFrozenRegistry(name, frozen, labels);
  const current = getMetricFromFrozenRegistry(name, now, labels);
  if (current === undefined) {
    fail(`${id} is missing (was ${saved} before).`, name, now, { operator: 'exists' });
  }
  const diff = current - (saved ?? 0);
  return { now, saved, current, diff, summary: `${id} = ${current} (was ${saved} before): changed by ${diff}` };
}

function sampleId(name: string, labels: LabelQuery): string {
  return `${name}${formatLabels(labels)}`;
}

/**
 * `actual`/`expected` only where they are values a diff display can compare. Operators are our
 * own: with `strictEqual`, recent Node versions append their diff to the message, so it would vary.
 */
interface Details {
  actual?: number | undefined;
  expected?: number | undefined;
  operator: string;
}

/** Throws with the whole vector of the source that was read, so a near miss in labels shows. */
function fail(summary: string, name: string, now: FrozenRegistry, details: Details): never {
  const vector = formatVector(getMetricVectorFromFrozenRegistry(name, now)) || '(no samples)';
  throw new AssertionError({ message: `${summary}\nThe values for ${name} are:\n${vector}`, ...details });
}
