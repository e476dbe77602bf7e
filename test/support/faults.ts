import { beforeAll, describe, expect, test } from 'vitest';
import type { Exposition } from './exposition.js';
import { ROOT, REGISTER, spawnApp, type RunningApp, type SpawnOptions } from './processes.js';

/** The fault-injection module (test/fixtures/faults.mjs), loaded after the preload. */
export const FAULTS = `${ROOT}test/fixtures/faults.mjs`;

export type FaultMode = 'recorders' | 'store' | 'scrape';

/** One request of a traffic script. */
export interface Exchange {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** What the client saw: status, the headers that do not vary by time, and the body. */
export interface Observed {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Headers that differ between two runs of the same app by time alone. */
const VARYING = new Set(['date', 'keep-alive', 'etag', 'last-modified']);

/** Sends `steps` in order and records what came back; a connection error is recorded as status 0. */
export async function exchange(app: RunningApp, steps: readonly Exchange[]): Promise<Observed[]> {
  const seen: Observed[] = [];
  for (const step of steps) {
    try {
      const res = await fetch(app.url(step.path), { method: step.method ?? 'GET', headers: step.headers, body: step.body });
      const headers: Record<string, string> = {};
      res.headers.forEach((value, name) => {
        if (!VARYING.has(name)) headers[name] = value;
      });
      seen.push({ status: res.status, headers, body: await res.text() });
    } catch (err) {
      seen.push({ status: 0, headers: {}, body: String((err as Error).cause ?? err) });
    }
  }
  return seen;
}

/** What a played app answered, what it logged, whether it lived on, and its scrape if one was asked for. */
export interface Played {
  seen: Observed[];
  exp?: Exposition;
  stderr: string;
  alive: boolean;
}

/** Plays `steps` against a started app, lets `close` listeners run, scrapes it if asked, and stops it. */
export async function playAndStop(app: RunningApp, steps: readonly Exchange[], scrape = false): Promise<Played> {
  try {
    const seen = await exchange(app, steps);
    await new Promise((r) => setTimeout(r, 50));
    const exp = scrape ? await app.scrape() : undefined;
    return { seen, exp, stderr: app.stderr(), alive: app.child.exitCode === null && app.child.signalCode === null };
  } finally {
    await app.stop();
  }
}

/** Node flags less the preload's `--import`. */
function withoutPreload(nodeArgs: readonly string[] = []): string[] {
  const at = nodeArgs.indexOf(REGISTER);
  return at > 0 && nodeArgs[at - 1] === '--import' ? [...nodeArgs.slice(0, at - 1), ...nodeArgs.slice(at + 1)] : [...nodeArgs];
}

/** Starts `script` without the preload: the behaviour every faulty run must reproduce. */
export function spawnBare(script: string, options: SpawnOptions = {}): Promise<RunningApp> {
  return spawnApp(script, { ...options, nodeArgs: withoutPreload(options.nodeArgs) });
}

/** Starts `script` with the preload and the package's own code made to throw as `modes` say. */
export function spawnFaulty(script: string, modes: readonly FaultMode[], options: SpawnOptions = {}): Promise<RunningApp> {
  return spawnApp(script, {
    ...options,
    nodeArgs: [...withoutPreload(options.nodeArgs), '--import', REGISTER, '--import', FAULTS],
    env: { ...options.env, ODM_FAULTS: modes.join(',') },
  });
}

/** The package's contained-failure lines (code ODM001) in `stderr`, one per failing site. */
export function containedFailures(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.includes(' ODM001 '));
}

/**
 * The fault-injection suite of one app script: with the package's recorders or its store made to
 * throw, the app answers exactly as without the preload and lives on, each failing site is logged
 * once with the injected fault. Broken recorders start no request, so only the request-start
 * subscriber fails; a broken store fails at least at `storeSites`. `checkBare` may assert what
 * the app answers without the preload.
 */
export function describeFaultModes(title: string, script: string, steps: readonly Exchange[], storeSites: string[], checkBare?: (bare: Observed[]) => void): void {
  describe(title, () => {
    let bare: Observed[];
    beforeAll(async () => {
      ({ seen: bare } = await playAndStop(await spawnBare(script), steps));
    });

    if (checkBare !== undefined) test('without the preload the app answers as its routes say', () => checkBare(bare));

    const MODES: FaultMode[][] = [['recorders'], ['store']];
    for (const modes of MODES) {
      test(`ODM_FAULTS=${modes.join(',')}: same responses as without the preload, the process survives, each failing site logged once`, async () => {
        const { seen, stderr, alive } = await playAndStop(await spawnFaulty(script, modes), steps);
        expect(seen).toEqual(bare);
        expect(alive).toBe(true);
        const failures = containedFailures(stderr);
        const sites = failures.map((line) => /ODM001 (.*?) failed;/.exec(line)?.[1]);
        expect(new Set(sites).size).toBe(sites.length);
        expect(failures.every((line) => line.includes('injected fault'))).toBe(true);
        if (modes.includes('store')) expect(sites).toEqual(expect.arrayContaining(storeSites));
        else expect(sites).toEqual(['http.server.request.start subscriber']);
      });
    }
  });
}
