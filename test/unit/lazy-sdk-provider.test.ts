import type {
  Attributes,
  BatchObservableCallback,
  Counter,
  Gauge,
  Histogram,
  Meter,
  MeterProvider,
  Observable,
  ObservableCallback,
  UpDownCounter,
} from '@opentelemetry/api';
import { describe, expect, test, vi } from 'vitest';
import { writeOtelMetrics } from '../../src/exposition/otel-metrics.js';
import { DeferredMeterProvider } from '../../src/otel/deferred-meter-provider.js';
import { PENDING_MEASUREMENT_LIMIT, PENDING_MEASUREMENT_PRESSURE } from '../../src/otel/pending.js';
import { createMeterSdk, type MeterSdk } from '../../src/sdk.js';

/**
 * The deferred provider must leave the SDK exactly as if the SDK had been there from the start.
 * Each scenario runs twice: through a DeferredMeterProvider attached between `before` and `after`,
 * and straight on the SDK's provider; both expositions must be identical, and match the text given.
 */
interface Scenario {
  before(provider: MeterProvider): void;
  after(provider: MeterProvider): void;
}

const newSdk = (): MeterSdk => createMeterSdk({ serviceName: undefined, maxSeriesPerMetric: 10_000 });

async function exposition(sdk: MeterSdk): Promise<string> {
  const out: string[] = [];
  writeOtelMetrics(out, await sdk.collect(), false);
  return out.join('');
}

async function throughDeferred(scenario: Scenario): Promise<string> {
  const deferred = new DeferredMeterProvider(() => {});
  scenario.before(deferred);
  const sdk = newSdk();
  expect(deferred.attach(sdk.meterProvider)).toEqual({ dropped: 0, failed: 0 });
  scenario.after(deferred);
  return exposition(sdk);
}

async function direct(scenario: Scenario): Promise<string> {
  const sdk = newSdk();
  scenario.before(sdk.meterProvider);
  scenario.after(sdk.meterProvider);
  return exposition(sdk);
}

async function expectSameAsSdk(makeScenario: () => Scenario, expected: string): Promise<void> {
  const deferred = await throughDeferred(makeScenario());
  expect(deferred).toBe(await direct(makeScenario()));
  expect(deferred).toBe(expected);
}

describe('DeferredMeterProvider: what was done before the SDK loaded ends up in the SDK', () => {
  test('synchronous instruments created before and after: names, descriptions, units, advice, values', async () => {
    await expectSameAsSdk(
      () => {
        let meter: Meter;
        let orders: Counter;
        let depth: UpDownCounter;
        let duration: Histogram;
        let temperature: Gauge;
        return {
          before(p) {
            meter = p.getMeter('app', '1.0.0');
            orders = meter.createCounter('orders', { description: 'Orders placed', unit: '{order}' });
            orders.add(1, { kind: 'a' });
            orders.add(2, { kind: 'b' });
            depth = meter.createUpDownCounter('queue.depth', { description: 'Queue depth' });
            depth.add(5);
            depth.add(-2);
            duration = meter.createHistogram('job.duration', { description: 'Job time', unit: 's', advice: { explicitBucketBoundaries: [0.1, 1] } });
            duration.record(0.05);
            duration.record(0.5);
            duration.record(5);
            temperature = meter.createGauge('temperature', { description: 'Last reading' });
            temperature.record(20, { room: 'x' });
            temperature.record(21, { room: 'x' });
          },
          after(p) {
            orders.add(4, { kind: 'a' });
            depth.add(1);
            duration.record(0.2);
            temperature.record(19, { room: 'x' });
            meter.createCounter('late', { description: 'Created after' }).add(1);
            p.getMeter('other').createCounter('elsewhere').add(7);
          },
        };
      },
      [
        '# HELP orders_total Orders placed\n# TYPE orders_total counter\n',
        'orders_total{kind="a"} 5.0\norders_total{kind="b"} 2.0\n',
        '# HELP queue_depth Queue depth\n# TYPE queue_depth gauge\nqueue_depth 4.0\n',
        '# HELP job_duration Job time\n# TYPE job_duration histogram\n',
        'job_duration_bucket{le="0.1"} 1.0\njob_duration_bucket{le="1.0"} 3.0\njob_duration_bucket{le="+Inf"} 4.0\n',
        'job_duration_count 4.0\njob_duration_sum 5.75\n',
        '# HELP temperature Last reading\n# TYPE temperature gauge\ntemperature{room="x"} 19.0\n',
        '# HELP late_total Created after\n# TYPE late_total counter\nlate_total 1.0\n',
        '# HELP elsewhere_total description missing\n# TYPE elsewhere_total counter\nelsewhere_total 7.0\n',
      ].join(''),
    );
  });

  test('a measurement held before loading counts once, however often the SDK is collected', async () => {
    const deferred = new DeferredMeterProvider(() => {});
    deferred.getMeter('app').createCounter('once').add(3);
    const sdk = newSdk();
    deferred.attach(sdk.meterProvider);
    const first = await exposition(sdk);
    expect(first).toContain('once_total 3.0\n');
    expect(await exposition(sdk)).toBe(first);
  });

  test('held measurements keep the attributes they were made with, even if the caller reuses the object', async () => {
    // Not compared with the SDK: it keeps the first object of a series by reference, so there the
    // mutation would also relabel the first series.
    const deferred = await throughDeferred({
      before(p) {
        const counter = p.getMeter('app').createCounter('requests');
        const attributes: Attributes = { status: '200' };
        counter.add(1, attributes);
        attributes.status = '500';
        counter.add(1, attributes);
      },
      after() {},
    });
    expect(deferred).toBe('# HELP requests_total description missing\n# TYPE requests_total counter\nrequests_total{status="200"} 1.0\nrequests_total{status="500"} 1.0\n');
  });

  test("the SDK's views apply to instruments created before it loaded", async () => {
    await expectSameAsSdk(
      () => ({
        before(p) {
          // views/otel.ts drops instrumentation-http's histogram: the HTTP families already expose it.
          p.getMeter('@opentelemetry/instrumentation-http').createHistogram('http.server.request.duration').record(0.1);
          p.getMeter('app').createCounter('kept').add(1);
        },
        after() {},
      }),
      '# HELP kept_total description missing\n# TYPE kept_total counter\nkept_total 1.0\n',
    );
  });

  test('observable callbacks registered, repeated and removed before loading, and added after', async () => {
    await expectSameAsSdk(
      () => {
        const size: ObservableCallback = (r) => r.observe(3, { pool: 'main' });
        const dropped: ObservableCallback = (r) => r.observe(99, { pool: 'gone' });
        let meter: Meter;
        return {
          before(p) {
            meter = p.getMeter('app');
            const pool = meter.createObservableGauge('pool.size', { description: 'Pool size' });
            pool.addCallback(size);
            pool.addCallback(size); // the SDK keeps one registration per (callback, instrument)
            pool.addCallback(dropped);
            pool.removeCallback(dropped);
            meter.createObservableUpDownCounter('backlog').addCallback((r) => r.observe(-2));
          },
          after() {
            meter.createObservableCounter('reads', { unit: '{read}' }).addCallback((r) => r.observe(10));
          },
        };
      },
      [
        '# HELP pool_size Pool size\n# TYPE pool_size gauge\npool_size{pool="main"} 3.0\n',
        '# HELP backlog description missing\n# TYPE backlog gauge\nbacklog -2.0\n',
        '# HELP reads_total description missing\n# TYPE reads_total counter\nreads_total 10.0\n',
      ].join(''),
    );
  });

  test('batch observable callbacks over instruments created before and after loading', async () => {
    await expectSameAsSdk(
      () => {
        let meter: Meter;
        let a: Observable;
        let b: Observable;
        const removedBefore: BatchObservableCallback = (r) => r.observe(a, 100);
        const removedAfter: BatchObservableCallback = (r) => r.observe(b, 100);
        return {
          before(p) {
            meter = p.getMeter('app');
            a = meter.createObservableGauge('a');
            b = meter.createObservableUpDownCounter('b');
            meter.addBatchObservableCallback((r) => {
              r.observe(a, 1);
              r.observe(b, 2, { side: 'left' });
            }, [a, b]);
            meter.addBatchObservableCallback(removedBefore, [a]);
            meter.removeBatchObservableCallback(removedBefore, [a]);
            meter.addBatchObservableCallback(removedAfter, [b]);
          },
          after() {
            meter.removeBatchObservableCallback(removedAfter, [b]);
            const c = meter.createObservableGauge('c');
            meter.addBatchObservableCallback((r) => {
              r.observe(a, 10, { late: 'yes' });
              r.observe(c, 3);
            }, [a, c]);
          },
        };
      },
      [
        '# HELP a description missing\n# TYPE a gauge\na 1.0\na{late="yes"} 10.0\n',
        '# HELP b description missing\n# TYPE b gauge\nb{side="left"} 2.0\n',
        '# HELP c description missing\n# TYPE c gauge\nc 3.0\n',
      ].join(''),
    );
  });

  test('one meter per scope, the same object before and after loading', () => {
    const deferred = new DeferredMeterProvider(() => {});
    const meter = deferred.getMeter('app', '1.0.0');
    expect(deferred.getMeter('app', '1.0.0')).toBe(meter);
    expect(deferred.getMeter('app', '2.0.0')).not.toBe(meter);
    expect(deferred.getMeter('app', '1.0.0', { schemaUrl: 'https://example.com/s' })).not.toBe(meter);
    deferred.attach(newSdk().meterProvider);
    expect(deferred.getMeter('app', '1.0.0')).toBe(meter);
  });
});

describe('DeferredMeterProvider: bounds and failures', () => {
  test(`asks for the SDK once ${PENDING_MEASUREMENT_PRESSURE} measurements wait, holds ${PENDING_MEASUREMENT_LIMIT}, counts the rest as dropped`, async () => {
    const pressure = vi.fn();
    const deferred = new DeferredMeterProvider(pressure);
    const counter = deferred.getMeter('app').createCounter('busy');
    for (let i = 1; i < PENDING_MEASUREMENT_PRESSURE; i++) counter.add(1);
    expect(pressure).not.toHaveBeenCalled();
    counter.add(1);
    expect(pressure).toHaveBeenCalledTimes(1);
    for (let i = PENDING_MEASUREMENT_PRESSURE; i < PENDING_MEASUREMENT_LIMIT + 5; i++) counter.add(1);
    expect(pressure).toHaveBeenCalledTimes(1);
    const sdk = newSdk();
    expect(deferred.attach(sdk.meterProvider)).toEqual({ dropped: 5, failed: 0 });
    expect(await exposition(sdk)).toContain(`busy_total ${PENDING_MEASUREMENT_LIMIT}.0\n`);
  });

  test('instrument creations and callbacks are never dropped, only measurements', async () => {
    const deferred = new DeferredMeterProvider(() => {});
    const meter = deferred.getMeter('app');
    const counter = meter.createCounter('busy');
    for (let i = 0; i < PENDING_MEASUREMENT_LIMIT + 1; i++) counter.add(1);
    meter.createObservableGauge('still.here').addCallback((r) => r.observe(1));
    const sdk = newSdk();
    expect(deferred.attach(sdk.meterProvider)).toEqual({ dropped: 1, failed: 0 });
    expect(await exposition(sdk)).toContain('still_here 1.0\n');
  });

  test('a replayed call that throws is counted and the others still run', () => {
    const deferred = new DeferredMeterProvider(() => {});
    const meter = deferred.getMeter('app');
    meter.createCounter('broken').add(1);
    meter.createCounter('fine').add(2);
    const added: string[] = [];
    const real: MeterProvider = {
      getMeter: () =>
        ({
          createCounter: (name: string) => {
            if (name === 'broken') throw new Error('no');
            return { add: (v: number) => added.push(`${name} ${v}`) };
          },
        }) as unknown as Meter,
    };
    expect(deferred.attach(real)).toEqual({ dropped: 0, failed: 1 });
    expect(added).toEqual(['fine 2']);
  });

  test('closed before the SDK loaded: what was held is gone, and later calls do nothing', () => {
    const deferred = new DeferredMeterProvider(() => {});
    const meter = deferred.getMeter('app');
    const counter = meter.createCounter('never');
    counter.add(1);
    deferred.close();
    counter.add(1);
    meter.createHistogram('after.close').record(1);
    deferred.getMeter('new').createCounter('noop').add(1);
    const added: string[] = [];
    const real: MeterProvider = {
      getMeter: () => ({ createCounter: () => ({ add: (v: number) => added.push(String(v)) }) }) as unknown as Meter,
    };
    expect(deferred.attach(real)).toEqual({ dropped: 0, failed: 0 });
    expect(added).toEqual([]);
  });
});
