import { collectDefaultMetrics, Registry, type Histogram } from 'prom-client';
import { describe, expect, test } from 'vitest';
import { GC_BUCKETS, RUNTIME, RUNTIME_FAMILIES } from '../../views/runtime.js';

/** What prom-client 15's `collectDefaultMetrics()` registers in this process, in its registration order. */
async function promClientFamilies() {
  const register = new Registry();
  collectDefaultMetrics({ register });
  const json = await register.getMetricsAsJSON();
  const names = json.map((m) => m.name);
  const labelNames = (name: string) => (register.getSingleMetric(name) as unknown as { labelNames: string[] }).labelNames;
  const text = await register.metrics();
  // HELP as written in the exposition, which escapes nothing in these texts.
  const help = new Map([...text.matchAll(/^# HELP (\S+) (.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  const families = json.map((m) => ({
    name: m.name,
    type: String(m.type),
    help: help.get(m.name),
    labels: labelNames(m.name),
    merge: (m as { aggregator: string }).aggregator,
  }));
  const gc = register.getSingleMetric('nodejs_gc_duration_seconds') as unknown as Histogram & { upperBounds: number[] };
  return { names, families, gcBuckets: gc.upperBounds };
}

// Once per file: each collectDefaultMetrics() starts its own event-loop monitor and GC observer.
const PROM_CLIENT = promClientFamilies();

describe('the runtime catalog equals prom-client 15 collectDefaultMetrics()', () => {
  test('the same families in the same order', async () => {
    const { names } = await PROM_CLIENT;
    expect(RUNTIME_FAMILIES.map((f) => f.name)).toEqual(names);
    expect(names).toHaveLength(31);
  });

  test('names, types, HELP texts, label names and merge rules (prom-client aggregators), family by family', async () => {
    const { families } = await PROM_CLIENT;
    // One deliberate difference: prom-client omits the start time from a merge, which empties the
    // uptime panels of a multi-process app; the merge keeps the first process's value instead.
    const expected = families.map((f) => (f.name === 'process_start_time_seconds' ? { ...f, merge: 'first' } : f));
    expect(families.find((f) => f.name === 'process_start_time_seconds')?.merge).toBe('omit');
    expect(RUNTIME_FAMILIES.map((f) => ({ name: f.name, type: f.type, help: f.help, labels: [...f.labels], merge: f.merge }))).toEqual(expected);
  });

  test('the GC histogram buckets', async () => {
    const { gcBuckets } = await PROM_CLIENT;
    expect(RUNTIME.gcDuration.buckets).toBe(GC_BUCKETS);
    expect([...GC_BUCKETS]).toEqual(gcBuckets);
    expect(RUNTIME_FAMILIES.filter((f) => f.buckets !== undefined)).toEqual([RUNTIME.gcDuration]);
  });

  test('every runtime family is in the runtime group (never namespaced)', () => {
    expect(new Set(RUNTIME_FAMILIES.map((f) => f.group))).toEqual(new Set(['runtime']));
  });
});
