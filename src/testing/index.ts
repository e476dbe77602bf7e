/**
 * `otel-django-metrics/testing`: the port of `django_prometheus.testutils` (metrics.md section 9).
 * Live reads are async and see what a scrape serializes.
 */
export {
  assertMetricCompare,
  assertMetricDiff,
  assertMetricEqual,
  assertMetricNoDiff,
  assertMetricNotEqual,
  type MetricPredicate,
} from './assertions.js';
export { formatLabels, formatVector } from './format.js';
export type { Sample } from './parse.js';
export {
  getMetric,
  getMetricFromFrozenRegistry,
  getMetricsVector,
  getMetricVectorFromFrozenRegistry,
  saveRegistry,
  type FrozenRegistry,
  type LabelQuery,
  type MetricVector,
} from './registry.js';
export type { MetricsSource } from './source.js';
