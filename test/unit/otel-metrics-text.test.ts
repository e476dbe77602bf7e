import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { describe, expect, test } from 'vitest';
import { writeOtelMetrics } from '../../src/exposition/otel-metrics.js';

/** A reader that only collects on demand, as the scrape does. */
class OnDemandReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

async function exposition(record: (provider: MeterProvider) => void): Promise<string> {
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ readers: [reader] });
  record(provider);
  const { resourceMetrics } = await reader.collect();
  const out: string[] = [];
  writeOtelMetrics(out, resourceMetrics, false);
  await provider.shutdown();
  return out.join('');
}

describe("the app's own OpenTelemetry instruments in Prometheus text", () => {
  test('attribute keys become valid label names; keys that collide share one label, values joined by ;', async () => {
    const text = await exposition((provider) =>
      provider.getMeter('m').createCounter('orders', { description: 'Orders.' }).add(1, { '1st': 'a', __reserved: 'b', 'a.b': 'x', a_b: 'y', 'http.method': 'GET', '': 'e' }),
    );
    expect(text).toBe(
      '# HELP orders_total Orders.\n# TYPE orders_total counter\n' +
        'orders_total{a_b="x;y",http_method="GET",key_="e",key_1st="a",key__reserved="b"} 1.0\n',
    );
  });

  test('an instrument created without a description gets the HELP OpenTelemetry writes for it, never an empty one', async () => {
    const text = await exposition((provider) => provider.getMeter('m').createUpDownCounter('queue_depth').add(3));
    expect(text).toBe('# HELP queue_depth description missing\n# TYPE queue_depth gauge\nqueue_depth 3.0\n');
  });
});
