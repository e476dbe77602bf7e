import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';
import { REGISTER, ROOT } from '../support/processes.js';

const SCRIPT = `${ROOT}test/fixtures/listener-identity.mjs`;

/** The script's observations, run as `node [--import register] listener-identity.mjs`. */
async function observe(nodeArgs: string[]): Promise<Record<string, unknown[]>> {
  const env = { ...process.env, PROMETHEUS_METRICS_EXPORT_PORT: 'off' };
  const { stdout } = await promisify(execFile)(process.execPath, [...nodeArgs, SCRIPT], { cwd: ROOT, env });
  return JSON.parse(stdout) as Record<string, unknown[]>;
}

const none = { count: 0, listeners: [], rawListeners: [], getEventListeners: [] };

describe("'request' listeners of http and https servers: the app sees exactly what Node gives it", () => {
  let bare: Record<string, unknown[]>;
  let preloaded: Record<string, unknown[]>;

  beforeAll(async () => {
    [bare, preloaded] = await Promise.all([observe([]), observe(['--import', REGISTER])]);
  });

  test('every scenario observes the same with the preload as without it', () => {
    expect(Object.keys(preloaded)).toEqual(Object.keys(bare));
    for (const scenario of Object.keys(bare)) expect(preloaded[scenario], scenario).toEqual(bare[scenario]);
  });

  test.each(['http.createServer()', 'new https.Server()'])('%s: once then removeListener removes it; rawListeners() gives the once-wrapper', (kind) => {
    expect(preloaded[`${kind}: once, removeListener`]).toEqual([
      true,
      { count: 1, listeners: ['f'], rawListeners: ['wrapper of f'], getEventListeners: ['f'], calls: ['newListener f'] },
      true,
      { ...none, calls: ['removeListener f'] },
      1,
      { ...none, calls: ['emit false'] },
      [],
    ]);
  });

  test.each(['http.createServer()', 'new https.Server()'])('%s: rawListeners() gives the functions added with on', (kind) => {
    expect(preloaded[`${kind}: the same function twice, removed once`]).toEqual([
      { count: 3, listeners: ['f', 'g', 'f'], rawListeners: ['f', 'g', 'f'], getEventListeners: ['f', 'g', 'f'], calls: ['newListener f', 'newListener g', 'newListener f'] },
      { count: 2, listeners: ['f', 'g'], rawListeners: ['f', 'g'], getEventListeners: ['f', 'g'], calls: ['removeListener f'] },
      3,
      { count: 2, listeners: ['f', 'g'], rawListeners: ['f', 'g'], getEventListeners: ['f', 'g'], calls: ['f', 'g', 'emit true'] },
      [],
    ]);
  });

  test.each(['http.createServer(f)', 'new http.Server({}, f)', 'https.createServer({}, f)', 'new https.Server({}, f)'])('%s: the constructor listener is f itself', (kind) => {
    expect(preloaded[kind]).toEqual([{ count: 1, listeners: ['f'], rawListeners: ['f'], getEventListeners: ['f'], calls: [] }, true, { ...none, calls: [] }]);
  });
});
