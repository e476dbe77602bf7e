import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, test } from 'vitest';
import { ALL_FAMILIES } from '../../views/index.js';
import { RUNTIME_FAMILIES } from '../../views/runtime.js';
import { valueOf } from '../support/exposition.js';
import { ROOT, spawnApp, type RunningApp, type SpawnOptions } from '../support/processes.js';

/** The Node.js runtime families in an app started with the preload. */
const APP = 'test/fixtures/settings-app.mjs';

let running: RunningApp[] = [];
async function start(env: SpawnOptions['env']): Promise<RunningApp> {
  const app = await spawnApp(APP, { env });
  running.push(app);
  return app;
}
afterEach(async () => {
  await Promise.all(running.map((app) => app.stop()));
  running = [];
});

describe('PROMETHEUS_RUNTIME_METRICS', () => {
  test('unset: the 31 runtime families with prom-client\'s HELP and TYPE, after the django families, never namespaced', async () => {
    const app = await start({ PROMETHEUS_METRIC_NAMESPACE: 'shop' });
    const exp = await app.scrape();
    const names = [...exp.families.keys()];
    expect(names.filter((n) => RUNTIME_FAMILIES.some((f) => f.name === n))).toEqual(RUNTIME_FAMILIES.map((f) => f.name));
    for (const f of RUNTIME_FAMILIES) expect(exp.families.get(f.name), f.name).toEqual({ help: f.help, type: f.type });
    expect(names.indexOf(RUNTIME_FAMILIES[0]!.name)).toBeGreaterThan(names.indexOf(`shop_${ALL_FAMILIES.at(-1)!.name}`));
    const [major, minor, patch] = process.version.slice(1).split('.');
    expect(valueOf(exp, 'nodejs_version_info', { version: process.version, major: major!, minor: minor!, patch: patch! })).toBe(1);
    expect(valueOf(exp, 'process_cpu_seconds_total')).toBeGreaterThan(0);
  });

  test('every series the nodejs-mixin panels query has a sample, and its NodejsDown alert (absent(nodejs_version_info)) stays silent', async () => {
    // A 1 MB young generation: loading the app surely runs the scavenges the GC panel reads.
    const app = await start({ NODE_OPTIONS: '--max-semi-space-size=1' });
    const exp = await app.scrape();
    const sampled = (name: string) => exp.samples.filter((s) => s.name === name).length;
    // The queried series (prom-client names): version, event loop lag, heap, GC, CPU, memory, start time, handles/requests.
    const queried = [
      'nodejs_version_info',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_total_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_heap_space_size_used_bytes',
      'nodejs_gc_duration_seconds_sum',
      'nodejs_gc_duration_seconds_count',
      'process_cpu_user_seconds_total',
      'process_cpu_system_seconds_total',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'process_start_time_seconds',
      'nodejs_active_handles_total',
      'nodejs_active_requests_total',
    ];
    expect(queried.filter((name) => sampled(name) === 0)).toEqual([]);
    const version = exp.samples.filter((s) => s.name === 'nodejs_version_info');
    expect(version.map((s) => s.value)).toEqual([1]);
  });

  test('=false: no runtime family; the django families unchanged', async () => {
    const app = await start({ PROMETHEUS_RUNTIME_METRICS: 'false' });
    const exp = await app.scrape();
    expect(RUNTIME_FAMILIES.filter((f) => exp.families.has(f.name))).toEqual([]);
    expect(ALL_FAMILIES.filter((f) => !exp.families.has(f.name))).toEqual([]);
  });
});

describe('the runtime metrics in a process of their own', () => {
  test('keep nothing alive: a script that starts and collects them, and never stops them, exits by itself', () => {
    const script = `import { startRuntimeMetrics } from './dist/src/runtime/index.js';
      const { collector } = startRuntimeMetrics();
      console.log([...collector.collect()].length);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 10_000 });
    expect(out).toBe(`${RUNTIME_FAMILIES.length}\n`);
  });
});
