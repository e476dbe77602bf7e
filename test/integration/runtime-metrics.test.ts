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
