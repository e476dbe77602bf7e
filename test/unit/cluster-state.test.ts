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

test('the encoding: a JSON header with each label value once, then the numbers as float64 and the label indexes as uint32', () => {
  const encoded = encodeState([values(HTTP.requestsByMethod, [[['GET'], 1], [['POST'], 2.5]]), values(HTTP.requestsByTransport, [[['GET'], 3]])]);
  const headerBytes = encoded.readUInt32LE(4);
  const header = JSON.parse(encoded.toString('utf8', 8, 8 + headerBytes));
  expect(encoded.toString('latin1', 0, 4)).toBe('ODM3');
  expect(header).toStrictEqual({
    version: 3,
    table: expect.stringMatching(/^[0-9a-f]{16}$/),
    strings: ['GET', 'POST'],
    families: [
      { def: HTTP.requestsByMethod.name, name: HTTP.requestsByMethod.name, labels: 2, values: 2 },
      { def: HTTP.requestsByTransport.name, name: HTTP.requestsByTransport.name, labels: 1, values: 1 },
    ],
  });
  const numbersAt = Math.ceil((8 + headerBytes) / 8) * 8;
  expect(encoded.length).toBe(numbersAt + 3 * 8 + 3 * 4);
  expect([0, 1, 2].map((i) => encoded.readDoubleLE(numbersAt + i * 8))).toEqual([1, 2.5, 3]);
  expect([0, 1, 2].map((i) => encoded.readUInt32LE(numbersAt + 24 + i * 4))).toEqual([0, 1, 0]);
  const readBack = (bytes: Uint8Array) => decodeState(bytes)!.families.map((f) => [Array.from(f.labels), Array.from(f.values)]);
  expect(readBack(encoded)).toEqual([[[0, 1], [1, 2.5]], [[0], [3]]]);
  // Read from any offset, aligned or not, the same.
  expect(readBack(Buffer.concat([Buffer.alloc(3), encoded]).subarray(3))).toEqual([[[0, 1], [1, 2.5]], [[0], [3]]]);
});

test.each([
  ['not a state', Buffer.from('not a state')],
  ['a JSON state of the first format', Buffer.from('{"version":1,"strings":[],"families":[]}')],
  ['a longer file than its header says', Buffer.concat([encodeState([values(HTTP.requestsByMethod, [[['GET'], 1]])]), Buffer.alloc(4)])],
  ['cut short', encodeState([values(HTTP.requestsByMethod, [[['GET'], 1]])]).subarray(0, 40)],
  ['label indexes missing', encodeState([values(HTTP.requestsByMethod, [[['GET'], 1]])]).subarray(0, -4)],
])('%s is not a state', (_, bytes) => {
  expect(decodeState(bytes)).toBeUndefined();
});

test('an encoder used again writes each state as a fresh one would: series added, label arrays replaced, fewer series', () => {
  const encoder = new StateEncoder();
  const registry = busyRegistry();
  const handles: string[][] = [['UV_TIMER'], ['TCP']];
  const collected = () => [...registry.collect(), values(RUNTIME.activeHandles, handles.map((labels) => [labels, 1]))];
  const again = (): void => expect(readable(decodeState(Buffer.concat(encoder.encode(collected())))!)).toStrictEqual(readable(decodeState(encodeState(collected()))!));
  again();
  registry.counter(HTTP.requestsByMethod).add(['OPTIONS']);
  registry.histogram(HTTP.latencyByViewMethod).observeWith(['/users/:id', 'POST'], 1);
  again();
  handles[0] = ['FSEvent'];
  again();
  handles.pop();
  again();
});

/** A state with its label indexes resolved to strings and its numbers as arrays: what two encoders must agree on. */
function readable(state: EncodedState): unknown {
  return state.families.map((f) => ({
    ...f,
    labels: Array.from(f.labels, (i) => state.strings[i]),
    values: Array.from(f.values),
    ...(f.overflow ? { overflow: Array.from(f.overflow) } : {}),
  }));
}
