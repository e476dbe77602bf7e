import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Hook } from 'require-in-the-middle';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eagerActivation, lazyActivation, packageOf, type Disable } from '../../src/otel/package-loads.js';

describe('packageOf: the package a Module._load request names', () => {
  test.each([
    ['pg', 'pg'],
    ['pg/lib/client.js', 'pg'],
    ['@redis/client', '@redis/client'],
    ['@redis/client/dist/lib/client/index.js', '@redis/client'],
    ['/app/node_modules/koa/lib/application.js', 'koa'],
    ['/app/node_modules/a/node_modules/@koa/router/dist/index.js', '@koa/router'],
    ['./client', undefined],
    ['../lib/index.js', undefined],
    ['node:http', undefined],
    ['/app/src/server.js', undefined],
  ])('%s -> %s', (request, expected) => {
    expect(packageOf(request)).toBe(expected);
  });
});

/** A directory holding an app file and a `node_modules` of fake CommonJS packages, fresh for each name. */
let root: string;
const requireFromApp = (): NodeJS.Require => createRequire(join(root, 'app.js'));
let seq = 0;

/** A new CommonJS package (a unique name per test: loads are process-wide); returns its name and main file. */
function fakePackage(): { name: string; main: string } {
  const name = `fake-lib-${process.pid}-${++seq}`;
  const dir = join(root, 'node_modules', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', main: 'index.js' }));
  writeFileSync(join(dir, 'index.js'), 'module.exports = { patched: false };\n');
  return { name, main: join(dir, 'index.js') };
}

/** An enable that patches `name` through require-in-the-middle, as the instrumentations do, and counts its calls. */
function patching(name: string) {
  const calls = { enabled: 0, disabled: 0 };
  const enable = (): Disable => {
    calls.enabled++;
    const hook = new Hook([name], (exports: { patched: boolean }) => {
      exports.patched = true;
      return exports;
    });
    return () => {
      calls.disabled++;
      hook.unhook();
    };
  };
  return { calls, enable };
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'package-loads-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('lazyActivation: an instrumentation starts when the app first loads one of its packages', () => {
  const lines: string[] = [];
  const activate = lazyActivation((line) => lines.push(line));

  test('not before; then inside the first require, which its hooks patch; once', () => {
    const { name } = fakePackage();
    const { calls, enable } = patching(name);
    activate([name, 'another-name'], enable);
    expect(calls.enabled).toBe(0);
    expect(requireFromApp()(name)).toEqual({ patched: true });
    requireFromApp()(name);
    expect(calls.enabled).toBe(1);
  });

  test('an ES module import of the CommonJS package is patched too, without the ESM loader', async () => {
    const { name, main } = fakePackage();
    const { calls, enable } = patching(name);
    activate([name], enable);
    const imported = (await import(pathToFileURL(main).href)) as { default: { patched: boolean } };
    expect(imported.default.patched).toBe(true);
    expect(calls.enabled).toBe(1);
  });

  test('a package loaded before (a restarted distribution) starts at once', () => {
    const { name } = fakePackage();
    const first = patching(name);
    const disable = activate([name], first.enable);
    requireFromApp()(name);
    disable();
    expect(first.calls).toEqual({ enabled: 1, disabled: 1 });
    const second = patching(name);
    activate([name], second.enable);
    expect(second.calls.enabled).toBe(1);
  });

  test('disabled before the package loads: never starts', () => {
    const { name } = fakePackage();
    const { calls, enable } = patching(name);
    activate([name], enable)();
    expect(requireFromApp()(name)).toEqual({ patched: false });
    expect(calls).toEqual({ enabled: 0, disabled: 0 });
  });

  test('an activation that throws is one log line; the app gets its package', () => {
    const { name } = fakePackage();
    activate([name], () => {
      throw new Error('broken');
    });
    expect(requireFromApp()(name)).toEqual({ patched: false });
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^instrumentation of ${name} not started: Error: broken`))]);
  });
});

test('eagerActivation starts at once (the ESM loader must learn the module names first)', () => {
  const { name } = fakePackage();
  const { calls, enable } = patching(name);
  const disable = eagerActivation(() => {})([name], enable);
  expect(calls.enabled).toBe(1);
  disable();
  expect(calls.disabled).toBe(1);
});
