import { expect, test } from 'vitest';
import { HTTP } from '../../views/index.js';
import { writeExposition } from '../../src/exposition/prometheus-text.js';
import { Registry } from '../../src/store/registry.js';

const NAME = 'django_http_responses_total_by_status_view_method_total';

async function exposition(registry: Registry): Promise<string[]> {
  const out: string[] = [];
  await writeExposition(registry.collect(), out);
  return out.join('').split('\n').filter((l) => l.startsWith(`${NAME}{`));
}

function registryWith(maxSeriesPerMetric: number, log: string[] = []): Registry {
  return new Registry({ namespace: '', latencyBuckets: [1], maxSeriesPerMetric }, (line) => log.push(line));
}

test('each label-value tuple is its own series, whatever characters the values hold, in creation order', async () => {
  const registry = registryWith(100);
  const family = registry.counter(HTTP.responsesByStatusViewMethod);
  // Tuples that a joined-string key would confuse: same concatenation, separators inside values.
  family.add(['200', 'a\u0001b', 'GET']);
  family.add(['200', 'a', 'b\u0001GET']);
  family.add(['200', 'ab', 'GET']);
  family.add(['200', 'a\u0001b', 'GET'], 2);
  family.add(['404', '', 'GET']);

  expect(await exposition(registry)).toEqual([
    `${NAME}{method="GET",status="200",view="a\u0001b"} 3.0`,
    `${NAME}{method="b\u0001GET",status="200",view="a"} 1.0`,
    `${NAME}{method="GET",status="200",view="ab"} 1.0`,
    `${NAME}{method="GET",status="404",view=""} 1.0`,
  ]);
});

test('past the series limit, new tuples fold into the overflow series whichever label is new, with one warning', async () => {
  const log: string[] = [];
  const registry = registryWith(2, log);
  const family = registry.counter(HTTP.responsesByStatusViewMethod);
  family.add(['200', '/a', 'GET']);
  family.add(['200', '/b', 'GET']);
  family.add(['500', '/a', 'GET']); // new first label
  family.add(['200', '/c', 'GET']); // new middle label
  family.add(['200', '/a', 'POST']); // new last label
  family.add(['200', '/a', 'GET']); // existing series still counts as itself

  expect(await exposition(registry)).toEqual([
    `${NAME}{method="GET",status="200",view="/a"} 2.0`,
    `${NAME}{method="GET",status="200",view="/b"} 1.0`,
    `${NAME}{otel_metric_overflow="true"} 3.0`,
  ]);
  expect(log).toEqual([
    `${NAME} reached PROMETHEUS_MAX_SERIES_PER_METRIC=2; further label sets are counted under otel_metric_overflow="true"`,
  ]);
});
