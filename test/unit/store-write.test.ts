import { expect, test } from 'vitest';
import { HTTP } from '../../views/index.js';
import { writeExposition } from '../../src/exposition/prometheus-text.js';
import { Registry } from '../../src/store/registry.js';

test('a large scrape gives the event loop back between slices and still writes every series once', async () => {
  const registry = new Registry({ namespace: '', latencyBuckets: [1], maxSeriesPerMetric: 1_000_000 });
  const byView = registry.counter(HTTP.requestsByViewTransportMethod);
  const SERIES = 300_000; // far more work than one slice
  for (let i = 0; i < SERIES; i++) byView.add([`/r${i}`, 'http', 'GET']);

  const out: string[] = [];
  let finished = false;
  const writing = writeExposition(registry.collect(), out).then(() => (finished = true));
  await new Promise<void>((resolve) => setImmediate(resolve));
  // The app got a turn of the event loop while the scrape was still being written.
  expect(finished).toBe(false);
  expect(out.length).toBeGreaterThan(0);
  await writing;

  const text = out.join('');
  const lines = text.split('\n').filter((l) => l.startsWith('django_http_requests_total_by_view_transport_method_total{'));
  expect(lines).toHaveLength(SERIES);
  expect(new Set(lines).size).toBe(SERIES);
  expect(text.match(/^# TYPE django_http_requests_total_by_view_transport_method_total counter$/gm)).toHaveLength(1);
});
