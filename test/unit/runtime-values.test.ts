import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { setContainmentLog } from '../../src/contain.js';
import { logLine } from '../../src/log.js';
import { RESOLUTION_MS } from '../../src/runtime/event-loop.js';
import { startRuntimeMetrics, type RuntimeMetrics } from '../../src/runtime/index.js';
import type { FamilySnapshot, HistogramPoint, HistogramSnapshot, ValuePoint } from '../../src/store/snapshot.js';
import { RUNTIME_FAMILIES } from '../../views/runtime.js';

// A full collection on demand, without running vitest with --expose-gc.
setFlagsFromString('--expose-gc');
const forceGc = runInNewContext('gc') as () => void;

let runtime: RuntimeMetrics;
beforeAll(() => {
  runtime = startRuntimeMetrics();
});
afterAll(() => runtime.stop());

function collect(): Map<string, FamilySnapshot> {
  return new Map([...runtime.collector.collect()].map((s) => [s.name, s]));
}

function points(snapshot: FamilySnapshot | undefined): (ValuePoint | HistogramPoint)[] {
  if (snapshot === undefined) throw new Error('family missing');
  return [...snapshot.points];
}

/** The value of a family's one unlabelled series. */
function value(families: Map<string, FamilySnapshot>, name: string): number {
  const [point, ...rest] = points(families.get(name)) as ValuePoint[];
  expect(rest).toEqual([]);
  expect(point!.labels).toEqual([]);
  return point!.value;
}

/** A family's series as `label value -> value`. */
function byLabel(families: Map<string, FamilySnapshot>, name: string): Record<string, number> {
  return Object.fromEntries((points(families.get(name)) as ValuePoint[]).map((p) => [p.labels.join(','), p.value]));
}

function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

/** Spends `seconds` of CPU time (other processes may take the core part of the wall time). */
function burn(seconds: number): void {
  const cpu = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  };
  const end = cpu() + seconds;
  while (cpu() < end);
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('the runtime collector (Linux)', () => {
  test('every catalog family, in catalog order, each series with one value per declared label', () => {
    const snapshots = [...runtime.collector.collect()];
    expect(snapshots.map((s) => s.name)).toEqual(RUNTIME_FAMILIES.map((f) => f.name));
    expect(snapshots.map((s) => s.def)).toEqual(RUNTIME_FAMILIES);
    for (const s of snapshots) for (const p of s.points) expect(p.labels).toHaveLength(s.def.labels.length);
  });

  test('process_resident_memory_bytes within 20% of VmRSS; virtual and heap bytes as /proc/self/status says', () => {
    const families = collect();
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s*(\\d+) kB$`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
    expect(Math.abs(value(families, 'process_resident_memory_bytes') / kb('VmRSS') - 1)).toBeLessThan(0.2);
    expect(Math.abs(value(families, 'process_virtual_memory_bytes') / kb('VmSize') - 1)).toBeLessThan(0.2);
    expect(Math.abs(value(families, 'process_heap_bytes') / kb('VmData') - 1)).toBeLessThan(0.2);
  });

  test('process_start_time_seconds within 5 s of the start the kernel records, a whole second', () => {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
    const bootTime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);
    // Field 22 of /proc/self/stat, counted after the parenthesised command name.
    const startTicks = Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[19]);
    const start = value(collect(), 'process_start_time_seconds');
    expect(Math.abs(start - (bootTime + startTicks / ticks))).toBeLessThan(5);
    expect(Number.isInteger(start)).toBe(true);
  });

  test('CPU seconds rise by the busy time; the total is user plus system', () => {
    const before = collect();
    burn(0.3);
    const after = collect();
    const cpu = (families: Map<string, FamilySnapshot>) => value(families, 'process_cpu_seconds_total');
    expect(cpu(after) - cpu(before)).toBeGreaterThanOrEqual(0.3);
    expect(cpu(after) - cpu(before)).toBeLessThan(0.4);
    expect(value(after, 'process_cpu_user_seconds_total') + value(after, 'process_cpu_system_seconds_total')).toBeCloseTo(cpu(after), 6);
    // Since the process started, as the other Prometheus clients count it.
    expect(cpu(after)).toBeGreaterThanOrEqual(process.cpuUsage().user / 1e6 - 1);
  });

  test('process_open_fds counts a file opened and closed; process_max_fds as /proc/self/limits says', () => {
    const families = collect();
    const fd = openSync('/proc/self/status', 'r');
    const opened = collect();
    closeSync(fd);
    expect(value(opened, 'process_open_fds')).toBe(value(families, 'process_open_fds') + 1);
    expect(value(collect(), 'process_open_fds')).toBe(value(families, 'process_open_fds'));
    expect(value(families, 'process_open_fds')).toBe(readdirSync('/proc/self/fd').length - 1);
    const limit = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))![1];
    expect(value(families, 'process_max_fds')).toBe(Number(limit));
  });

  test('nodejs_version_info: version, major, minor, patch of process.version, value 1', () => {
    const [major, minor, patch] = process.version.slice(1).split('.');
    expect(points(collect().get('nodejs_version_info'))).toEqual([{ labels: [process.version, major, minor, patch], value: 1 }]);
  });

  test('a server and a timer show as prom-client names them: handle type Server, resource type Timeout', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const before = collect();
    const timer = setInterval(() => {}, 60_000);
    const after = collect();
    clearInterval(timer);
    await new Promise((resolve) => server.close(resolve));
    expect(byLabel(after, 'nodejs_active_handles').Server).toBeGreaterThanOrEqual(1);
    expect((byLabel(after, 'nodejs_active_resources').Timeout ?? 0) - (byLabel(before, 'nodejs_active_resources').Timeout ?? 0)).toBe(1);
    expect(value(after, 'nodejs_active_resources_total') - value(before, 'nodejs_active_resources_total')).toBe(1);
    const sum = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);
    expect(value(after, 'nodejs_active_handles_total')).toBe(sum(byLabel(after, 'nodejs_active_handles')));
    expect(value(after, 'nodejs_active_resources_total')).toBe(sum(byLabel(after, 'nodejs_active_resources')));
  });

  test('a forced GC counts as kind="major"; buckets per bucket with +Inf last add up to the count', async () => {
    const major = () => points(collect().get('nodejs_gc_duration_seconds')).find((p) => p.labels[0] === 'major') as HistogramPoint | undefined;
    const before = major()?.count ?? 0;
    forceGc();
    // GC entries reach the observer asynchronously.
    for (let i = 0; i < 50 && (major()?.count ?? 0) === before; i++) await tick();
    const after = major()!;
    expect(after.count).toBe(before + 1);
    expect(after.counts).toHaveLength(7);
    expect(Array.from(after.counts).reduce((a, b) => a + b, 0)).toBe(after.count);
    expect(after.sum).toBeGreaterThan(0);
    const gc = collect().get('nodejs_gc_duration_seconds') as HistogramSnapshot;
    expect(gc.bounds).toEqual([0.001, 0.01, 0.1, 1, 2, 5]);
    for (const p of gc.points) expect(['major', 'minor', 'incremental', 'weakcb']).toContain(p.labels[0]);
  });

  test('a blocked loop shows in the delay statistics and, one collection later, in nodejs_eventloop_lag_seconds', async () => {
    collect();
    // The monitor records nothing for the first interval after a collection resets it.
    await new Promise((resolve) => setTimeout(resolve, 2 * RESOLUTION_MS + 20));
    busy(200);
    await tick();
    const families = collect();
    // The sample holding the block spans at least the block, less the shift to prom-client's scale.
    expect(value(families, 'nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(0.2 - (RESOLUTION_MS - 10) / 1000);
    expect(value(families, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0.15);
    // On prom-client's scale: about its 10 ms resolution at least (a timer may fire a little early).
    expect(value(families, 'nodejs_eventloop_lag_min_seconds')).toBeGreaterThan(0.009);
    expect(value(families, 'nodejs_eventloop_lag_mean_seconds')).toBeGreaterThan(0.01);
    expect(value(families, 'nodejs_eventloop_lag_stddev_seconds')).toBeGreaterThan(0);
    expect(value(families, 'nodejs_eventloop_lag_p50_seconds')).toBeGreaterThan(0.009);
    // The collection above measured the wait for the next turn of the loop; block that turn.
    busy(100);
    await tick();
    expect(value(collect(), 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0.1);
  });

  test('an idle window reads about 10 ms, as prom-client reads it', async () => {
    collect();
    await new Promise((resolve) => setTimeout(resolve, 400));
    const p50 = value(collect(), 'nodejs_eventloop_lag_p50_seconds');
    expect(p50).toBeGreaterThan(0.009);
    // Unshifted it would read the 50 ms resolution; the margin is for a loaded machine's late timers.
    expect(p50).toBeLessThan(0.03);
  });
});

describe('the same series as prom-client collectDefaultMetrics() in the same process', () => {
  test('label names per family, and the type, space and version label values', async () => {
    const register = new Registry();
    collectDefaultMetrics({ register });
    const timer = setInterval(() => {}, 60_000);
    // Both read the process in one turn of the loop, so they see the same handles and resources.
    const theirs = await register.getMetricsAsJSON();
    const ours = collect();
    clearInterval(timer);
    const deterministic = RUNTIME_FAMILIES.filter((f) => f.name !== 'nodejs_gc_duration_seconds');
    for (const def of deterministic) {
      const metric = theirs.find((m) => m.name === def.name)!;
      const labelSets = (metric.values as { labels: Record<string, string | number> }[]).map((v) => Object.fromEntries(Object.entries(v.labels).map(([k, l]) => [k, String(l)])));
      const ourSets = (points(ours.get(def.name)) as ValuePoint[]).map((p) => Object.fromEntries(def.labels.map((l, i) => [l, p.labels[i]])));
      expect({ name: def.name, labels: ourSets }).toEqual({ name: def.name, labels: labelSets });
    }
    expect(byLabel(ours, 'nodejs_active_resources').Timeout).toBeGreaterThanOrEqual(1);
  });
});

describe('stop()', () => {
  test('ends the sampling: a GC after it is not counted, and collecting still works', async () => {
    const stopped = startRuntimeMetrics();
    const gcCount = () => points([...stopped.collector.collect()].find((s) => s.name === 'nodejs_gc_duration_seconds')).reduce((n, p) => n + (p as HistogramPoint).count, 0);
    stopped.stop();
    const before = gcCount();
    forceGc();
    // Long enough for GC entries to reach a live observer (see the forced-GC test above).
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(gcCount()).toBe(before);
    expect([...stopped.collector.collect()].map((s) => s.name)).toEqual(RUNTIME_FAMILIES.map((f) => f.name));
  });
});

describe('containment', () => {
  test('a failing part drops only its own families, reported once as ODM001', () => {
    const lines: string[] = [];
    setContainmentLog((line) => lines.push(line));
    const cpuUsage = process.cpuUsage;
    process.cpuUsage = () => {
      throw new Error('no CPU accounting');
    };
    try {
      const names = [...runtime.collector.collect()].map((s) => s.name);
      runtime.collector.collect();
      expect(names).toEqual(RUNTIME_FAMILIES.map((f) => f.name).filter((n) => !n.startsWith('process_cpu_')));
      expect(lines).toEqual(['ODM001 runtime cpu failed; the measurement is dropped and the app is unaffected: Error: no CPU accounting']);
    } finally {
      process.cpuUsage = cpuUsage;
      setContainmentLog(logLine);
    }
  });
});
