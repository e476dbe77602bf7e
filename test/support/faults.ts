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
