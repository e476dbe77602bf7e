import { afterEach, describe, expect, test, vi } from 'vitest';
import { writeExposition } from '../../src/exposition/prometheus-text.js';
import { MigrationTracker, type MigrationCounts, type MigrationSource } from '../../src/migrations/tracker.js';
import { Registry } from '../../src/store/registry.js';

/** The migration tracker on a real Registry, read through the Prometheus text writer. */

const HEADERS = [
  '# HELP django_migrations_unapplied_total Count of unapplied migrations by database connection',
  '# TYPE django_migrations_unapplied_total gauge',
  '# HELP django_migrations_applied_total Count of applied migrations by database connection',
  '# TYPE django_migrations_applied_total gauge',
];

function setup(options: { enabled?: boolean; refreshSeconds?: number } = {}) {
  const registry = new Registry({ namespace: '', latencyBuckets: [1], maxSeriesPerMetric: 100 });
  const lines: string[] = [];
  const tracker = new MigrationTracker(registry, { enabled: options.enabled ?? true, refreshSeconds: options.refreshSeconds ?? 0, log: (line) => lines.push(line) });
  registry.addCollector('migrations', tracker.collector);
  trackers.push(tracker);
  /** The exposition's migration lines, exactly as a scrape prints them. */
  const exposed = async () => {
    const out: string[] = [];
    await writeExposition(registry.collect(), out);
    return out
      .join('')
      .split('\n')
      .filter((line) => line.includes('django_migrations_'));
  };
  /** The sample lines only. */
  const samples = async () => (await exposed()).filter((line) => !line.startsWith('#'));
  return { tracker, lines, exposed, samples };
}

const trackers: MigrationTracker[] = [];
afterEach(() => {
  for (const tracker of trackers.splice(0)) tracker.stop();
  vi.useRealTimers();
});

/** A source whose reads give `results` in turn (the last one again once exhausted); a function result is called. */
function source(key: string, connection: string, ...results: Array<MigrationCounts | unknown | (() => unknown)>) {
  let calls = 0;
  const src: MigrationSource & { calls: () => number } = {
    key,
    tool: 'knex',
    connection,
    read: async () => {
      const result = results[Math.min(calls++, results.length - 1)];
      return (typeof result === 'function' ? await (result as () => unknown)() : result) as MigrationCounts;
    },
    calls: () => calls,
  };
  return src;
}

/** A read the test settles by hand. */
function deferred() {
  let resolve!: (counts: MigrationCounts) => void;
  const promise = new Promise<MigrationCounts>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets the tracker's first read (scheduled off the caller's stack) and its continuations run. */
async function settled(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

const failedLine = (connection: string, reason: string, tool = 'knex') =>
  `migrations: cannot read the ${tool} migrations of connection "${connection}"; left out until a read succeeds: ${reason}`;

describe('exposition', () => {
  test('with no source, HELP and TYPE only', async () => {
    const { exposed } = setup();
    expect(await exposed()).toEqual(HEADERS);
  });

  test('a source read gives one series per family, gauges printed as floats', async () => {
    const { tracker, exposed } = setup();
    tracker.add(source('a', 'default', { applied: 2, unapplied: 1 }));
    await settled();
    expect(await exposed()).toEqual([
      HEADERS[0],
      HEADERS[1],
      'django_migrations_unapplied_total{connection="default"} 1.0',
      HEADERS[2],
      HEADERS[3],
      'django_migrations_applied_total{connection="default"} 2.0',
    ]);
  });
});

describe('reading', () => {
  test('the first read happens off the caller’s stack', async () => {
    const { tracker, samples } = setup();
    const src = source('a', 'default', { applied: 2, unapplied: 1 });
    tracker.add(src);
    expect(src.calls()).toBe(0);
    await settled();
    expect(src.calls()).toBe(1);
    expect(await samples()).toEqual(['django_migrations_unapplied_total{connection="default"} 1.0', 'django_migrations_applied_total{connection="default"} 2.0']);
  });

  test('refresh() re-reads and resolves once the gauges hold the new counts', async () => {
    const { tracker, samples } = setup();
    const handle = tracker.add(source('a', 'default', { applied: 2, unapplied: 1 }, { applied: 3, unapplied: 0 }));
    await settled();
    await handle.refresh();
    expect(await samples()).toEqual(['django_migrations_unapplied_total{connection="default"} 0.0', 'django_migrations_applied_total{connection="default"} 3.0']);
  });

  test('identical keys are one source, read once; its handles refresh that one source', async () => {
    const { tracker, samples } = setup();
    const first = source('knex:db/knex_migrations', 'default', { applied: 2, unapplied: 1 }, { applied: 3, unapplied: 0 });
    const second = source('knex:db/knex_migrations', 'default', { applied: 100, unapplied: 100 });
    tracker.add(first);
    const again = tracker.add(second);
    await settled();
    expect([first.calls(), second.calls()]).toEqual([1, 0]);
    expect(await samples()).toEqual(['django_migrations_unapplied_total{connection="default"} 1.0', 'django_migrations_applied_total{connection="default"} 2.0']);
    await again.refresh();
    expect([first.calls(), second.calls()]).toEqual([2, 0]);
    expect(await samples()).toEqual(['django_migrations_unapplied_total{connection="default"} 0.0', 'django_migrations_applied_total{connection="default"} 3.0']);
  });

  test('distinct sources on one connection are summed; other connections have their own series', async () => {
    const { tracker, samples } = setup();
    tracker.add(source('a', 'default', { applied: 2, unapplied: 1 }));
    tracker.add(source('b', 'replica', { applied: 7, unapplied: 0 }));
    tracker.add(source('c', 'default', { applied: 3, unapplied: 4 }));
    await settled();
    expect(await samples()).toEqual([
      'django_migrations_unapplied_total{connection="default"} 5.0',
      'django_migrations_unapplied_total{connection="replica"} 0.0',
      'django_migrations_applied_total{connection="default"} 5.0',
      'django_migrations_applied_total{connection="replica"} 7.0',
    ]);
  });

  test('a refresh asked during a read triggers exactly one more read after it, and waits for it', async () => {
    const { tracker, samples } = setup();
    const reads = [deferred(), deferred()];
    let calls = 0;
    const handle = tracker.add({ key: 'a', tool: 'knex', connection: 'default', read: () => reads[calls++]!.promise });
    await settled();
    expect(calls).toBe(1);
    // Two runs land while the first read is in flight: one more read covers both.
    let refreshed = 0;
    void handle.refresh().then(() => refreshed++);
    void handle.refresh().then(() => refreshed++);
    reads[0]!.resolve({ applied: 2, unapplied: 1 });
    await settled();
    expect([calls, refreshed]).toEqual([2, 0]);
    expect(await samples()).toEqual(['django_migrations_unapplied_total{connection="default"} 1.0', 'django_migrations_applied_total{connection="default"} 2.0']);
    reads[1]!.resolve({ applied: 3, unapplied: 0 });
    await settled();
    expect([calls, refreshed]).toEqual([2, 2]);
    expect(await samples()).toEqual(['django_migrations_unapplied_total{connection="default"} 0.0', 'django_migrations_applied_total{connection="default"} 3.0']);
  });
});

describe('failures', () => {
  test('a failing source has no series and logs one line per outage; a success ends the outage', async () => {
    const { tracker, lines, samples } = setup();
    const boom = () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:1');
    };
    const handle = tracker.add(source('a', 'default', boom, boom, { applied: 2, unapplied: 1 }, boom));
    tracker.add(source('b', 'default', { applied: 1, unapplied: 1 }));
    await settled();
    expect(lines).toEqual([failedLine('default', 'connect ECONNREFUSED 127.0.0.1:1')]);
    // Only the source that read is left in the sum: no stale or invented value.
    expect(await samples()).toEqual(['django_migrations_unapplied_total{connection="default"} 1.0', 'django_migrations_applied_total{connection="default"} 1.0']);
    await handle.refresh(); // the second failure in a row: nothing more in the log
    expect(lines).toHaveLength(1);
    await handle.refresh(); // reads again
    expect(await samples()).toEqual(['django_migrations_unapplied_total{connection="default"} 2.0', 'django_migrations_applied_total{connection="default"} 3.0']);
    await handle.refresh(); // a new outage: a new line, and its values are dropped
    expect(lines).toEqual([failedLine('default', 'connect ECONNREFUSED 127.0.0.1:1'), failedLine('default', 'connect ECONNREFUSED 127.0.0.1:1')]);
    expect(await samples()).toEqual(['django_migrations_unapplied_total{connection="default"} 1.0', 'django_migrations_applied_total{connection="default"} 1.0']);
  });

  test('the line is one line even for a multi-line or empty error message', async () => {
    const { tracker, lines } = setup();
    const refused = Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' });
    tracker.add(source('a', 'default', () => Promise.reject(new Error('relation "x" does not exist\n  at line 1'))));
    tracker.add(source('b', 'replica', () => Promise.reject(refused)));
    tracker.add(source('c', 'audit', () => Promise.reject('plain string')));
    await settled();
    expect(lines).toEqual([
      failedLine('default', 'relation "x" does not exist at line 1'),
      failedLine('replica', 'ECONNREFUSED'),
      failedLine('audit', 'plain string'),
    ]);
  });

  test('a read that never answers is abandoned after 10 s: one line, its last values dropped', async () => {
    vi.useFakeTimers();
    const { tracker, lines, samples } = setup();
    const handle = tracker.add(source('a', 'default', { applied: 2, unapplied: 1 }, () => new Promise(() => {})));
    await vi.advanceTimersByTimeAsync(0);
    expect(await samples()).toHaveLength(2);
    let done = false;
    void handle.refresh().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(9_999);
    expect([done, lines]).toEqual([false, []]);
    expect(await samples()).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
    expect(lines).toEqual([failedLine('default', 'no answer within 10 s')]);
    expect(await samples()).toEqual([]);
  });

  test('invalid counts are rejected with the line: negative, fractional, NaN, infinite, strings, missing, wrong shape', async () => {
    const invalid = [
      { applied: -1, unapplied: 0 },
      { applied: 1.5, unapplied: 0 },
      { applied: 1, unapplied: Number.NaN },
      { applied: Number.POSITIVE_INFINITY, unapplied: 0 },
      { applied: '2', unapplied: 1 },
      { applied: 2 },
      [2, 1],
      null,
      undefined,
      5,
    ];
    const { tracker, lines, exposed } = setup();
    invalid.forEach((counts, i) => tracker.add({ key: `k${i}`, tool: 'knex', connection: `c${i}`, read: async () => counts as MigrationCounts }));
    await settled();
    expect(lines).toEqual(invalid.map((_, i) => failedLine(`c${i}`, 'the source did not give two counts (integers >= 0)')));
    expect(await exposed()).toEqual(HEADERS);
  });

  test('a read that throws synchronously is a failed read like any other', async () => {
    const { tracker, lines, exposed } = setup();
    tracker.add({
      key: 'a',
      tool: 'kysely',
      connection: 'default',
      read: () => {
        throw new TypeError('not a function');
      },
    });
    await settled();
    expect(lines).toEqual([failedLine('default', 'not a function', 'kysely')]);
    expect(await exposed()).toEqual(HEADERS);
  });
});

describe('refresh timer', () => {
  test('PROMETHEUS_MIGRATIONS_REFRESH_SECONDS re-reads every source on its period', async () => {
    vi.useFakeTimers();
    const { tracker, samples } = setup({ refreshSeconds: 30 });
    const a = source('a', 'default', { applied: 1, unapplied: 2 }, { applied: 2, unapplied: 1 }, { applied: 3, unapplied: 0 });
    const b = source('b', 'replica', { applied: 4, unapplied: 0 });
    tracker.add(a);
    tracker.add(b);
    await vi.advanceTimersByTimeAsync(0);
    expect([a.calls(), b.calls()]).toEqual([1, 1]);
    await vi.advanceTimersByTimeAsync(29_999);
    expect([a.calls(), b.calls()]).toEqual([1, 1]);
    await vi.advanceTimersByTimeAsync(1);
    expect([a.calls(), b.calls()]).toEqual([2, 2]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect([a.calls(), b.calls()]).toEqual([3, 3]);
    expect(await samples()).toEqual([
      'django_migrations_unapplied_total{connection="default"} 0.0',
      'django_migrations_unapplied_total{connection="replica"} 0.0',
      'django_migrations_applied_total{connection="default"} 3.0',
      'django_migrations_applied_total{connection="replica"} 4.0',
    ]);
  });

  test('0 (the default) never re-reads on a timer', async () => {
    vi.useFakeTimers();
    const { tracker } = setup();
    const a = source('a', 'default', { applied: 1, unapplied: 2 });
    tracker.add(a);
    await vi.advanceTimersByTimeAsync(24 * 3600_000);
    expect(a.calls()).toBe(1);
  });

  test('tracker.stop() ends the timer and removes every source', async () => {
    vi.useFakeTimers();
    const { tracker, exposed } = setup({ refreshSeconds: 1 });
    const a = source('a', 'default', { applied: 1, unapplied: 2 });
    tracker.add(a);
    await vi.advanceTimersByTimeAsync(0);
    tracker.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(a.calls()).toBe(1);
    expect(await exposed()).toEqual(HEADERS);
  });
});

describe('stopping a source', () => {
  test('stop() removes it from the sums; a refresh after stop reads nothing', async () => {
    const { tracker, samples } = setup();
    const a = source('a', 'default', { applied: 2, unapplied: 1 });
    const handle = tracker.add(a);
    tracker.add(source('b', 'default', { applied: 1, unapplied: 0 }));
    await settled();
    handle.stop();
    expect(await samples()).toEqual(['django_migrations_unapplied_total{connection="default"} 0.0', 'django_migrations_applied_total{connection="default"} 1.0']);
    await handle.refresh();
    expect(a.calls()).toBe(1);
  });

  test('a source stopped while its read is in flight leaves no values behind', async () => {
    const { tracker, exposed } = setup();
    const read = deferred();
    const handle = tracker.add({ key: 'a', tool: 'knex', connection: 'default', read: () => read.promise });
    await settled();
    handle.stop();
    read.resolve({ applied: 2, unapplied: 1 });
    await settled();
    expect(await exposed()).toEqual(HEADERS);
  });

  test('an identical source added twice stays until both handles are stopped (a handle stops once)', async () => {
    const { tracker, samples } = setup();
    const first = tracker.add(source('a', 'default', { applied: 2, unapplied: 1 }));
    const second = tracker.add(source('a', 'default', { applied: 2, unapplied: 1 }));
    await settled();
    first.stop();
    first.stop();
    expect(await samples()).toHaveLength(2);
    second.stop();
    expect(await samples()).toEqual([]);
  });

  test('a source added again after a stop starts a new outage: its failure is logged again', async () => {
    const { tracker, lines } = setup();
    const failing = () => source('a', 'default', () => Promise.reject(new Error('down')));
    const handle = tracker.add(failing());
    await settled();
    handle.stop();
    tracker.add(failing());
    await settled();
    expect(lines).toEqual([failedLine('default', 'down'), failedLine('default', 'down')]);
  });
});

describe('disabled (PROMETHEUS_EXPORT_MIGRATIONS off)', () => {
  test('nothing is read, no timer runs, and the families have HELP and TYPE only', async () => {
    vi.useFakeTimers();
    const { tracker, exposed } = setup({ enabled: false, refreshSeconds: 1 });
    const a = source('a', 'default', { applied: 2, unapplied: 1 });
    const handle = tracker.add(a);
    await handle.refresh();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(a.calls()).toBe(0);
    expect(await exposed()).toEqual(HEADERS);
  });
});
