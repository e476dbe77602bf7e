import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { mergedCollector } from '../../src/cluster/collector.js';
import { ownIdentity, readIdentity, type ProcessIdentity } from '../../src/cluster/process-identity.js';
import { decodeState, encodeState } from '../../src/cluster/state-format.js';
import { HTTP, MIGRATIONS } from '../../views/index.js';
import { exitedId, histogram, liveProcesses, publish, stateDir, text, values } from '../fixtures/multiproc-states.js';

const BY_METHOD = HTTP.requestsByMethod;
const LATENCY = HTTP.latencyIncludingMiddlewares;

let live: { identities: ProcessIdentity[]; stop(): void };
let B: string;
beforeAll(async () => {
  live = await liveProcesses(1);
  B = live.identities[0]!.id;
});
afterAll(() => live?.stop());

let state: ReturnType<typeof stateDir>;
beforeEach(() => {
  state = stateDir();
});
afterEach(() => state.remove());

const files = () => readdirSync(state.dir).sort();
const retired = () => decodeState(readFileSync(join(state.dir, 'retired.state')))!;
const getCount = (exposed: string) => Number(/\ndjango_http_requests_total_by_method_total\{method="GET"\} (\S+)\n/.exec(exposed)?.[1]);

describe('exited processes are folded into one retired state', () => {
  test('pid reuse: a file of this pid with another start time is an exited process, folded; its gauges leave', async () => {
    const own = ownIdentity();
    const reused = `${own.pid}-${own.start + 1}`;
    publish(state.dir, reused, [values(BY_METHOD, [[['GET'], 5]]), values(MIGRATIONS.applied, [[['default'], 3]])]);
    publish(state.dir, own.id, [values(BY_METHOD, [[['GET'], 1]])]);
    const exposed = await text(await mergedCollector(state.dir).collect());
    expect(exposed).toBe(`# HELP django_http_requests_total_by_method_total Count of requests by method.
# TYPE django_http_requests_total_by_method_total counter
django_http_requests_total_by_method_total{method="GET"} 6.0
`);
    expect(files()).toEqual([`${own.id}.state`, 'retired.state']);
  });

  test('processes exiting one after another: the retired state adds them up, and names only the files not yet removed', async () => {
    publish(state.dir, B, [values(BY_METHOD, [[['GET'], 1]])]);
    const collector = mergedCollector(state.dir);
    for (let i = 1; i <= 5; i++) {
      publish(state.dir, exitedId(i), [values(BY_METHOD, [[['GET'], 10 * i]]), histogram(LATENCY, [[[], [i, 0, 0], 0.5]])]);
      expect(getCount(await text(await collector.collect()))).toBe(1 + 10 * ((i * (i + 1)) / 2));
      expect(files()).toEqual([`${B}.state`, 'retired.state']);
      // Written before the removal, the retired state names the one file it had just folded.
      expect(retired().folded).toEqual([exitedId(i)]);
    }
    expect(await text(await mergedCollector(state.dir).collect())).toContain(`\n${LATENCY.name}_count 15.0\n${LATENCY.name}_sum 2.5\n`);
  });

  test('a fold cut short after writing the retired state (its files not yet removed) counts nothing twice, and the next fold removes them', async () => {
    const E = exitedId(1);
    publish(state.dir, E, [values(BY_METHOD, [[['GET'], 10]])]);
    publish(state.dir, B, [values(BY_METHOD, [[['GET'], 1]])]);
    // What the crashed fold left: the retired state holding E, E's file still there, and its lock.
    writeFileSync(join(state.dir, 'retired.state'), encodeState([values(BY_METHOD, [[['GET'], 10]])], [E]));
    mkdirSync(join(state.dir, 'fold.lock'));
    const collector = mergedCollector(state.dir);
    expect(getCount(await text(await collector.collect()))).toBe(11);
    // Once the lock is stale, the next fold removes E's file and folds a process that exited since: E not again.
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(state.dir, 'fold.lock'), old, old);
    publish(state.dir, exitedId(2), [values(BY_METHOD, [[['GET'], 100]])]);
    expect(getCount(await text(await collector.collect()))).toBe(111);
    expect(files()).toEqual([`${B}.state`, 'retired.state']);
    expect(getCount(await text(await mergedCollector(state.dir).collect()))).toBe(111);
  });

  test('a fold cut short before writing (its lock left behind) changes nothing: the file is counted, once; the stale lock is taken over', async () => {
    const E = exitedId(1);
    publish(state.dir, E, [values(BY_METHOD, [[['GET'], 10]]), values(MIGRATIONS.applied, [[['default'], 3]])]);
    publish(state.dir, B, [values(BY_METHOD, [[['GET'], 1]])]);
    mkdirSync(join(state.dir, 'fold.lock'));
    // A lock just taken: no fold now, but the exited process still counts (without its gauges).
    const collector = mergedCollector(state.dir);
    expect(await text(await collector.collect())).toBe(`# HELP django_http_requests_total_by_method_total Count of requests by method.
# TYPE django_http_requests_total_by_method_total counter
django_http_requests_total_by_method_total{method="GET"} 11.0
`);
    expect(files()).toEqual([`${E}.state`, `${B}.state`, 'fold.lock'].sort());
    // Left by a process that died holding it: taken over.
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(state.dir, 'fold.lock'), old, old);
    expect(getCount(await text(await collector.collect()))).toBe(11);
    expect(files()).toEqual([`${B}.state`, 'retired.state']);
  });

  test('temporary files of exited writers are removed, those of live ones kept', async () => {
    publish(state.dir, exitedId(1), [values(BY_METHOD, [[['GET'], 1]])]);
    writeFileSync(join(state.dir, `.${exitedId(2)}.${exitedId(2)}.state.tmp`), 'partial');
    writeFileSync(join(state.dir, `.${B}.${B}.state.tmp`), 'in progress');
    await mergedCollector(state.dir).collect();
    expect(files()).toEqual([`.${B}.${B}.state.tmp`, 'retired.state']);
  });
});

describe('counters never go down', () => {
  test('a live file that comes back lower (a write lost, a file read before a restart) exposes the last highest: counters per series, histograms whole, gauges as they are', async () => {
    const collector = mergedCollector(state.dir);
    publish(state.dir, B, [
      histogram(LATENCY, [[[], [2, 1, 0], 0.75]]),
      values(BY_METHOD, [[['GET'], 5], [['POST'], 2]]),
      values(MIGRATIONS.applied, [[['default'], 3]]),
    ]);
    const first = await text(await collector.collect());
    publish(state.dir, B, [histogram(LATENCY, [[[], [1, 0, 0], 0.25]]), values(BY_METHOD, [[['GET'], 3]]), values(MIGRATIONS.applied, [[['default'], 2]])]);
    const second = await text(await collector.collect());
    expect(second).toBe(first.replace('{connection="default"} 3.0', '{connection="default"} 2.0'));
    // And it moves on once the merge passes it again.
    publish(state.dir, B, [histogram(LATENCY, [[[], [2, 2, 0], 1]]), values(BY_METHOD, [[['GET'], 6]]), values(MIGRATIONS.applied, [[['default'], 2]])]);
    const third = await text(await collector.collect());
    expect(getCount(third)).toBe(6);
    expect(third).toContain('{method="POST"} 2.0\n');
    expect(third).toContain(`\n${LATENCY.name}_count 4.0\n${LATENCY.name}_sum 1.0\n`);
  });

  test('a process killed outright: its last published file is folded as it was, so consecutive collections never decrease', async () => {
    const killed = await liveProcesses(1);
    const K = killed.identities[0]!.id;
    const collector = mergedCollector(state.dir);
    publish(state.dir, B, [values(BY_METHOD, [[['GET'], 1]])]);
    publish(state.dir, K, [values(BY_METHOD, [[['GET'], 4]]), values(MIGRATIONS.applied, [[['default'], 3]])]);
    const seen = [await text(await collector.collect())];
    killed.stop();
    await waitForExit(killed.identities[0]!.pid);
    seen.push(await text(await collector.collect()));
    publish(state.dir, B, [values(BY_METHOD, [[['GET'], 2]])]);
    seen.push(await text(await collector.collect()));
    expect(seen.map(getCount)).toEqual([5, 5, 6]);
    expect(seen.map((t) => t.includes('django_migrations_applied_total{'))).toEqual([true, false, false]);
    expect(files()).toEqual([`${B}.state`, 'retired.state']);
  });

  test('two collections at once run one after the other and agree', async () => {
    publish(state.dir, exitedId(1), [values(BY_METHOD, [[['GET'], 2]])]);
    publish(state.dir, B, [values(BY_METHOD, [[['GET'], 1]])]);
    const collector = mergedCollector(state.dir);
    const [a, b] = await Promise.all([collector.collect().then(text), collector.collect().then(text)]);
    expect(getCount(a)).toBe(3);
    expect(b).toBe(a);
  });
});

/** Until the process is gone (a killed child of this process is reaped by Node at once). */
async function waitForExit(pid: number): Promise<void> {
  while ((await readIdentity(pid)) !== undefined) await new Promise((r) => setTimeout(r, 10));
}
