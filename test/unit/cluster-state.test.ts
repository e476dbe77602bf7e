import { afterEach, beforeEach, expect, test } from 'vitest';
import { mergedCollector } from '../../src/cluster/collector.js';
import { ownIdentity, readIdentity } from '../../src/cluster/process-identity.js';
import { decodeState, encodeState, StateEncoder, type EncodedState } from '../../src/cluster/state-format.js';
import { Registry } from '../../src/store/registry.js';
import { DEFAULT_LATENCY_BUCKETS, HTTP, MIGRATIONS, MODELS } from '../../views/index.js';
import { RUNTIME } from '../../views/runtime.js';
import { publish, stateDir, text, values } from '../fixtures/multiproc-states.js';

let state: ReturnType<typeof stateDir>;
beforeEach(() => {
  state = stateDir();
});
afterEach(() => state.remove());

/** A process's registry with some of everything: unlabelled and labelled counters, histograms, a pre-created series, overflow, a collected gauge. */
function busyRegistry(namespace = '', rounds = 1): Registry {
  const registry = new Registry({ namespace, latencyBuckets: DEFAULT_LATENCY_BUCKETS, maxSeriesPerMetric: 3 }, () => {});
  registry.counter(MODELS.inserts).touch(['dog']);
  registry.addCollector('migrations', { collect: () => [values(MIGRATIONS.applied, [[['default'], 3]])] });
  for (let i = 0; i < rounds; i++) {
    registry.counter(HTTP.requestsBefore).inc(7);
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) registry.counter(HTTP.requestsByMethod).add([method], 2);
    registry.histogram(HTTP.latencyIncludingMiddlewares).observe(0.03);
    registry.histogram(HTTP.latencyIncludingMiddlewares).observe(80);
    registry.histogram(HTTP.latencyByViewMethod).observeWith(['/users/:id', 'GET'], 0.2);
    registry.histogram(HTTP.responseBodyBytes).observe(1_048_577);
    registry.counter(HTTP.responsesByStatusViewMethod).add(['200', 'a "quoted"\\ view\n', 'GET']);
  }
  return registry;
}

test("one process's merge is its own exposition, byte for byte (overflow series, escapes, zero series and every bucket layout included)", async () => {
  for (const namespace of ['', 'shop']) {
    const registry = busyRegistry(namespace);
    publish(state.dir, ownIdentity().id, [...registry.collect()]);
    expect(await text(await mergedCollector(state.dir).collect())).toBe(await text(registry.collect()));
  }
});

test('two identical processes: every counter and histogram number doubles, the gauges (max) do not', async () => {
  const registry = busyRegistry();
  publish(state.dir, ownIdentity().id, [...registry.collect()]);
  publish(state.dir, (await readIdentity(process.ppid))!.id, [...registry.collect()]);
  expect(await text(await mergedCollector(state.dir).collect())).toBe(await text(busyRegistry('', 2).collect()));
});

test('the encoding writes each label value once and series as numbers', () => {
  const encoded = encodeState([values(HTTP.requestsByMethod, [[['GET'], 1], [['POST'], 2]]), values(HTTP.requestsByTransport, [[['GET'], 3]])]);
  expect(JSON.parse(encoded)).toStrictEqual({
    version: 1,
    strings: ['GET', 'POST'],
    families: [
      { def: HTTP.requestsByMethod.name, name: HTTP.requestsByMethod.name, labels: [0, 1], values: [1, 2] },
      { def: HTTP.requestsByTransport.name, name: HTTP.requestsByTransport.name, labels: [0], values: [3] },
    ],
  });
  expect(decodeState(encoded)).toStrictEqual(JSON.parse(encoded));
});

test.each([['not json'], ['null'], ['[]'], ['{"version":2,"strings":[],"families":[]}'], ['{"version":1,"strings":[],"families":[{"def":1}]}']])('%s is not a state', (raw) => {
  expect(decodeState(raw)).toBeUndefined();
});

test('an encoder used again writes each state as a fresh one would: series added, label arrays replaced, fewer series', () => {
  const encoder = new StateEncoder();
  const registry = busyRegistry();
  const handles: string[][] = [['UV_TIMER'], ['TCP']];
  const collected = () => [...registry.collect(), values(RUNTIME.activeHandles, handles.map((labels) => [labels, 1]))];
  const again = (): void => expect(JSON.parse(encoder.encode(collected()))).toStrictEqual(withStrings(JSON.parse(encodeState(collected())), encoder));
  again();
  registry.counter(HTTP.requestsByMethod).add(['OPTIONS']);
  registry.histogram(HTTP.latencyByViewMethod).observeWith(['/users/:id', 'POST'], 1);
  again();
  handles[0] = ['FSEvent'];
  again();
  handles.pop();
  again();
});

/** A fresh encoding's state with its label indexes mapped into the older encoder's string table (which keeps strings no longer used). */
function withStrings(fresh: EncodedState, encoder: StateEncoder): EncodedState {
  const table = (JSON.parse(encoder.encode([])) as EncodedState).strings;
  const map = fresh.strings.map((s) => table.indexOf(s));
  return { ...fresh, strings: table, families: fresh.families.map((f) => ({ ...f, labels: f.labels.map((i) => map[i]!) })) };
}
