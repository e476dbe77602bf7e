import { beforeAll, describe, expect, test } from 'vitest';
import { containedFailures, spawnBare, spawnFaulty } from '../support/faults.js';
import { spawnApp, type RunningApp, type SpawnOptions } from '../support/processes.js';
import { vectorOf, type Exposition } from '../support/exposition.js';

/** trackMigrations, the public API, in an app started with the preload (and without it). */
const APP = 'test/fixtures/migrations-track-app.mjs';
const PREFIX = 'otel-django-metrics: ';

interface Run {
  outcomes: Record<string, unknown>;
  calls: Record<string, number>;
  gauges: Record<string, string[]>;
  stderr: string[];
  scrape: Exposition | undefined;
  alive: boolean;
}

type Spawn = (script: string, options: SpawnOptions) => Promise<RunningApp>;

const ON = { PROMETHEUS_EXPORT_MIGRATIONS: 'true', PROMETHEUS_DB_ALIASES: 'numbers=127.0.0.1,primary=/test' };
const MODES: Record<string, [Spawn, Record<string, string>]> = {
  plain: [spawnBare, {}],
  off: [spawnApp, { TRACK_PRELOADED: '1' }],
  on: [spawnApp, { ...ON, TRACK_PRELOADED: '1' }],
  timer: [spawnApp, { ...ON, TRACK_PRELOADED: '1', PROMETHEUS_MIGRATIONS_REFRESH_SECONDS: '1' }],
  faults: [(script, options) => spawnFaulty(script, ['recorders'], options), { ...ON, TRACK_PRELOADED: '1', PROMETHEUS_MIGRATIONS_REFRESH_SECONDS: '1' }],
};

async function run(mode: string): Promise<Run> {
  const [spawn, env] = MODES[mode]!;
  const app = await spawn(APP, { readyText: 'ready', timeoutMs: 45_000, env: { ...env, TRACK_WAIT_MS: '2500' } });
  try {
    const { outcomes, calls, gauges } = JSON.parse(app.stdout().split('\n')[0]!) as Omit<Run, 'stderr' | 'scrape' | 'alive'>;
    const scrape = mode === 'plain' ? undefined : await app.scrape();
    // The refresh timer of the faulty run has ticked (and failed, contained) by now.
    if (mode === 'faults') await new Promise((resolve) => setTimeout(resolve, 2_000));
    const stderr = app.stderr().split('\n').filter(Boolean);
    return { outcomes, calls, gauges, stderr, scrape, alive: app.child.exitCode === null };
  } finally {
    await app.stop();
  }
}

const REFUSED = [`${PREFIX}trackMigrations: invalid connection (expected 1-64 characters of A-Z a-z 0-9 _ . -); ignored`, `${PREFIX}trackMigrations: expected an object { connection, applied, unapplied }; ignored`];
const cannotRead = (connection: string, reason: string) => `${PREFIX}migrations: cannot read the trackMigrations migrations of connection "${connection}"; left out until a read succeeds: ${reason}`;

/** Both gauges as the fixture prints them, for the sources registered and not stopped. */
function gauges(sync: [number, number], async: [number, number], stopped = false): string[] {
  return [
    `django_migrations_applied_total{async} ${async[0]}`,
    'django_migrations_applied_total{default} 5',
    ...(stopped ? [] : ['django_migrations_applied_total{numbers} 4']),
    `django_migrations_applied_total{shared} ${stopped ? 1 : 11}`,
    `django_migrations_applied_total{sync} ${sync[0]}`,
    `django_migrations_unapplied_total{async} ${async[1]}`,
    'django_migrations_unapplied_total{default} 0',
    ...(stopped ? [] : ['django_migrations_unapplied_total{numbers} 1']),
    'django_migrations_unapplied_total{shared} 2',
    `django_migrations_unapplied_total{sync} ${sync[1]}`,
  ];
}

describe(`trackMigrations (${APP})`, () => {
  let runs: Record<string, Run>;

  beforeAll(async () => {
    const modes = Object.keys(MODES);
    const results = await Promise.all(modes.map(run));
    runs = Object.fromEntries(modes.map((mode, i) => [mode, results[i]!]));
  }, 180_000);

  test('the app gets the same handles and results in every mode, and lives on', () => {
    for (const mode of ['off', 'on', 'timer', 'faults']) expect(runs[mode]!.outcomes, mode).toEqual(runs.plain!.outcomes);
    expect(Object.keys(runs.plain!.outcomes)).toHaveLength(11);
    for (const mode of Object.keys(MODES)) expect(runs[mode]!.alive, mode).toBe(true);
  });

  test('misuse is refused with one line each, with or without the preload; a DSN is never echoed', () => {
    for (const mode of ['plain', 'off']) expect(runs[mode]!.stderr, mode).toEqual(REFUSED);
    for (const mode of Object.keys(MODES)) expect(runs[mode]!.stderr.join('\n')).not.toContain('secret');
  });

  test('PROMETHEUS_EXPORT_MIGRATIONS off: no count is read, the families have HELP and TYPE only', () => {
    for (const mode of ['plain', 'off']) expect(runs[mode]!.calls, mode).toEqual({ sync: 0, async: 0, failing: 0 });
    expect(runs.off!.gauges).toEqual({ registered: [], 'after the run': [], 'after the timer': [], stopped: [] });
    const scrape = runs.off!.scrape!;
    expect(scrape.families.get('django_migrations_applied_total')).toEqual({ help: 'Count of applied migrations by database connection', type: 'gauge' });
    expect(scrape.families.get('django_migrations_unapplied_total')).toEqual({ help: 'Count of unapplied migrations by database connection', type: 'gauge' });
    expect([...vectorOf(scrape, 'django_migrations_applied_total'), ...vectorOf(scrape, 'django_migrations_unapplied_total')]).toEqual([]);
  });

  test('on: numbers, sync and async functions; two calls on one connection summed; `default` without a connection, PROMETHEUS_DB_ALIASES not applied', () => {
    expect(runs.on!.gauges.registered).toEqual(gauges([2, 1], [20, 10]));
  });

  test('on: refresh() after the app’s own migration run shows it; without a refresh timer nothing re-reads; stop() removes a source', () => {
    expect(runs.on!.gauges['after the run']).toEqual(gauges([3, 0], [30, 0]));
    expect(runs.on!.gauges['after the timer']).toEqual(gauges([3, 0], [30, 0]));
    expect(runs.on!.gauges.stopped).toEqual(gauges([3, 0], [30, 0], true));
    // Read when tracked, on refresh() after the run, and on the final refresh() of every handle.
    expect(runs.on!.calls).toEqual({ sync: 3, async: 3, failing: 2 });
  });

  test('on: a negative count and a throwing function are left out with one line each, once per outage', () => {
    expect(runs.on!.stderr).toEqual([...REFUSED, cannotRead('negative', 'the source did not give two counts (integers >= 0)'), cannotRead('failing', 'migrations table is gone')]);
  });

  test('on: the dedicated endpoint shows the last refresh() of every handle (after the rollback)', () => {
    const scrape = runs.on!.scrape!;
    expect(vectorOf(scrape, 'django_migrations_applied_total')).toEqual(['{"connection":"async"} 20', '{"connection":"default"} 5', '{"connection":"shared"} 1', '{"connection":"sync"} 2']);
    expect(vectorOf(scrape, 'django_migrations_unapplied_total')).toEqual(['{"connection":"async"} 10', '{"connection":"default"} 0', '{"connection":"shared"} 2', '{"connection":"sync"} 1']);
  });

  test('PROMETHEUS_MIGRATIONS_REFRESH_SECONDS: the timer re-reads a rollback the app did not report', () => {
    expect(runs.timer!.gauges['after the timer']).toEqual(gauges([2, 1], [20, 10]));
  });

  test('the tracker throwing (ODM_FAULTS=recorders): inert handles, no series, each contained site reported once', () => {
    expect(runs.faults!.calls).toEqual({ sync: 0, async: 0, failing: 0 });
    expect(runs.faults!.gauges).toEqual({ registered: [], 'after the run': [], 'after the timer': [], stopped: [] });
    const sites = containedFailures(runs.faults!.stderr.join('\n')).map((line) => /ODM001 (.+?) failed;/.exec(line)?.[1]);
    expect(sites.sort()).toEqual(['collector migrations', 'migrations refresh timer', 'trackMigrations']);
    expect(runs.faults!.stderr.filter((line) => !line.includes(' ODM001 '))).toEqual(REFUSED);
  });
});
