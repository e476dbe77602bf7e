import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { setContainmentLog } from '../../src/contain.js';
import { logLine } from '../../src/log.js';
import { ownIdentity } from '../../src/cluster/process-identity.js';
import { startPublisher, type Publisher } from '../../src/cluster/publisher.js';
import { decodeState } from '../../src/cluster/state-format.js';
import { Registry } from '../../src/store/registry.js';
import { DEFAULT_LATENCY_BUCKETS, HTTP } from '../../views/index.js';
import { stateDir } from '../fixtures/multiproc-states.js';
import { ROOT } from '../support/processes.js';

let state: ReturnType<typeof stateDir>;
let publisher: Publisher | undefined;
beforeEach(() => {
  state = stateDir();
});
afterEach(() => {
  publisher?.stop();
  publisher = undefined;
  state.remove();
});

const registry = () => new Registry({ namespace: '', latencyBuckets: DEFAULT_LATENCY_BUCKETS, maxSeriesPerMetric: 100 }, () => {});
const file = () => join(state.dir, `${ownIdentity().id}.state`);
/** When the file was last written, to the nanosecond: a rewrite moves it. */
const written = () => statSync(file(), { bigint: true }).mtimeNs;
const getCount = (path = file()) => {
  const s = decodeState(readFileSync(path))!;
  const family = s.families.find((f) => f.def === HTTP.requestsBefore.name)!;
  return family.values[0];
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('startPublisher', () => {
  test('writes the state at once, then only when something was recorded, at the interval', async () => {
    const r = registry();
    publisher = startPublisher(r, state.dir, { intervalMs: 25, refreshMs: 60_000 });
    expect(getCount()).toBe(0);
    const first = written();
    await sleep(150);
    expect(written()).toBe(first);
    r.counter(HTTP.requestsBefore).inc(3);
    expect(getCount()).toBe(0);
    await sleep(150);
    expect(getCount()).toBe(3);
    const second = written();
    await sleep(150);
    expect(written()).toBe(second);
    expect(readdirSync(state.dir)).toEqual([`${ownIdentity().id}.state`]);
  });

  test('an idle state is still rewritten every refreshMs (collected gauges move without recordings)', async () => {
    publisher = startPublisher(registry(), state.dir, { intervalMs: 20, refreshMs: 60 });
    const first = written();
    await sleep(200);
    expect(written()).not.toBe(first);
  });

  test('publishNow writes synchronously; stop writes once more and removes its exit hook and timer', async () => {
    const r = registry();
    const exitHooks = process.listenerCount('exit');
    publisher = startPublisher(r, state.dir, { intervalMs: 60_000 });
    expect(process.listenerCount('exit')).toBe(exitHooks + 1);
    r.counter(HTTP.requestsBefore).inc();
    publisher.publishNow();
    expect(getCount()).toBe(1);
    r.counter(HTTP.requestsBefore).inc();
    publisher.stop();
    publisher = undefined;
    expect(getCount()).toBe(2);
    expect(process.listenerCount('exit')).toBe(exitHooks);
  });

  test('a directory that went away: a contained failure, logged once, nothing thrown', () => {
    const lines: string[] = [];
    setContainmentLog((line) => lines.push(line));
    try {
      publisher = startPublisher(registry(), join(state.dir, 'missing'), { intervalMs: 60_000 });
      expect(() => publisher!.publishNow()).not.toThrow();
    } finally {
      setContainmentLog(logLine);
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ODM001 multiprocess publish failed; the measurement is dropped and the app is unaffected: Error: ENOENT/);
  });
});

/** A process that publishes (interval 60 s: only the start and its exit write), records 3 requests, then ends as `how` says. */
function publishingProcess(dir: string, how: 'exit' | 'end' | 'sigterm-unhandled'): Promise<{ pid: number; code: number | null; signal: string | null }> {
  const script = `
    import { startPublisher } from './dist/src/cluster/publisher.js';
    import { Registry } from './dist/src/store/registry.js';
    import { DEFAULT_LATENCY_BUCKETS, HTTP } from './dist/views/index.js';
    const registry = new Registry({ namespace: '', latencyBuckets: DEFAULT_LATENCY_BUCKETS, maxSeriesPerMetric: 100 });
    startPublisher(registry, ${JSON.stringify(dir)}, { intervalMs: 60_000 });
    registry.counter(HTTP.requestsBefore).inc(3);
    ${how === 'exit' ? 'process.exit(0);' : how === 'end' ? '' : "setInterval(() => {}, 1000); console.log('ready');"}
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  if (how === 'sigterm-unhandled') child.stdout.once('data', () => child.kill('SIGTERM'));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ pid: child.pid!, code, signal })));
}

describe("the 'exit' event writes the final state", () => {
  test.each([
    ['process.exit()', 'exit', 3],
    ['the event loop running out', 'end', 3],
    // Node ends at once on a signal nobody handles: no 'exit' event, and nothing of ours changes that.
    ['SIGTERM the app does not handle (no exit event: the last publication stays)', 'sigterm-unhandled', 0],
  ] as const)('%s', async (_, how, expected) => {
    const { pid, signal } = await publishingProcess(state.dir, how);
    expect(signal).toBe(how === 'sigterm-unhandled' ? 'SIGTERM' : null);
    const [name] = readdirSync(state.dir);
    expect(name).toMatch(new RegExp(`^${pid}-\\d+\\.state$`));
    expect(getCount(join(state.dir, name!))).toBe(expected);
  });
});
