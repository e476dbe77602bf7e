import { beforeAll, describe, expect, test } from 'vitest';
import { get, logLines, startCluster, type ClusterOptions, type RunningCluster } from '../fixtures/cluster-harness.js';
import { containedFailures, FAULTS, type FaultMode } from '../support/faults.js';

/** What one run of the script saw: the app's answers, and the primary's exit. */
interface Run {
  answers: string[];
  scrapes: number[];
  stderr: string;
  exitCode: number | null;
}

/**
 * The same script in every run: traffic, a 404, a worker disconnected and replaced, the app's
 * own message listeners read back; scrapes of the dedicated port in between when there is one.
 */
async function runScript(options: ClusterOptions): Promise<Run> {
  const app: RunningCluster = await startCluster({ workers: 2, ...options });
  const answers: string[] = [];
  const scrapes: number[] = [];
  const ask = async (path: string) => {
    const res = await get(app.port, path);
    answers.push(`${path} ${res.status} ${res.body}`);
  };
  const scrape = async () => {
    if (options.preload !== 'none') scrapes.push((await fetch(`http://127.0.0.1:${app.metricsPort}/metrics`)).status);
  };
  try {
    for (let i = 0; i < 10; i++) await ask('/');
    await ask('/nope');
    await ask('/busy?ms=1');
    await scrape();
    await app.command('disconnect 1', /exited 1 0 null\n/);
    await app.command('fork', /forked 3\n/);
    for (let i = 0; i < 6; i++) await ask('/');
    await scrape();
    answers.push((await app.command('messages', /messages .*\n/))[0]);
    await ask('/messages');
    await ask('/messages');
  } finally {
    await app.stop();
  }
  return { answers, scrapes, stderr: app.stderr(), exitCode: app.child.exitCode };
}

const MODES: FaultMode[] = ['recorders', 'store', 'scrape'];

describe('node:cluster never breaks the app: the same script without the preload, with it, and with its code made to throw', () => {
  const runs: Record<string, Run> = {};

  beforeAll(async () => {
    runs.bare = await runScript({ preload: 'none' });
    runs.instrumented = await runScript({});
    for (const mode of MODES) runs[mode] = await runScript({ imports: [FAULTS], env: { ODM_FAULTS: mode } });
  }, 180_000);

  test('the script ran as planned without the preload', () => {
    expect(runs.bare!.answers).toEqual([
      ...Array<string>(10).fill('/ 200 ok'),
      '/nope 404 not found',
      '/busy?ms=1 200 done',
      ...Array<string>(6).fill('/ 200 ok'),
      'messages []\n',
      '/messages 200 []',
      '/messages 200 []',
    ]);
    expect(runs.bare!.exitCode).toBe(0);
  });

  for (const name of ['instrumented', ...MODES]) {
    test(`${name}: the app answers exactly as without the preload, its message listeners see nothing, the primary exits 0`, () => {
      const run = runs[name]!;
      expect(run.answers).toEqual(runs.bare!.answers);
      expect(run.exitCode).toBe(0);
      // Every scrape was answered (its content may be what a fault left).
      expect(run.scrapes).toHaveLength(2);
    });
  }

  test('instrumented: both scrapes succeed and nothing is logged', () => {
    expect(runs.instrumented!.scrapes).toEqual([200, 200]);
    expect(logLines(runs.instrumented!.stderr)).toEqual([]);
  });

  // The sites that fail in each mode: the recorders' and the store's callers, and, when taking a
  // snapshot throws, every publication (whose failure is contained where it is made).
  const SITES: Record<FaultMode, string[]> = {
    recorders: ['collector migrations', 'http.server.request.start subscriber'],
    store: ['http.server.request.start subscriber'],
    scrape: ['multiprocess publish'],
  };
  for (const mode of MODES) {
    test(`${mode}: the package logs only contained failures (${SITES[mode].join(', ')}), each site at most once per process`, () => {
      const lines = logLines(runs[mode]!.stderr);
      expect(containedFailures(runs[mode]!.stderr)).toEqual(lines);
      const sites = lines.map((line) => /ODM001 (.+?) failed;/.exec(line)![1]!);
      expect([...new Set(sites)].sort()).toEqual(SITES[mode]);
      // The primary and the three workers of the run at most.
      for (const site of SITES[mode]) expect(sites.filter((s) => s === site).length).toBeLessThanOrEqual(4);
    });
  }
});
