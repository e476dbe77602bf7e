import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Hook } from 'require-in-the-middle';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { HOOK_FAILED, setContainmentLog } from '../../src/contain.js';
import { eagerActivation, lazyActivation, loadHookStep, packageOf, type Disable } from '../../src/otel/package-loads.js';

type Load = (request: unknown, parent: unknown, isMain: boolean) => unknown;
const loader = Module as unknown as { _load: Load };

/**
 * Node's own `_load`, and the calls that reach it beneath the hook: this file's module code runs
 * before the first activation installs the hook, so the hook's "original" is this recorder.
 */
const nodeLoad = loader._load;
const reachedNode: Array<[unknown, unknown, boolean]> = [];
loader._load = function (this: unknown, request: unknown, parent: unknown, isMain: boolean): unknown {
  reachedNode.push([request, parent, isMain]);
  return nodeLoad.call(this, request, parent, isMain);
};
/** The calls that reach Node's `_load` while `load` runs. */
function callsReachingNode(load: () => unknown): Array<[unknown, unknown, boolean]> {
  reachedNode.length = 0;
  try {
    load();
  } catch {
    // The test asserts the error separately.
  }
  return reachedNode.splice(0);
}

/** What a thrown error says, for comparing it with the one Node throws. */
function thrown(load: () => unknown): unknown {
  try {
    load();
  } catch (err) {
    const { name, message, code, requireStack } = err as Error & { code?: string; requireStack?: string[] };
    return { name, message, code, requireStack };
  }
  return 'nothing thrown';
}

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
/** The module `requireFromApp` loads for, as the parent Node's `_load` receives. */
const appModule = (): unknown => expect.objectContaining({ filename: join(root, 'app.js') });
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
  const activate = lazyActivation();

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

  test('an activation that throws is one ODM001 line; the app gets its package', () => {
    setContainmentLog((line) => lines.push(line));
    const { name } = fakePackage();
    activate([name], () => {
      throw new Error('broken');
    });
    expect(requireFromApp()(name)).toEqual({ patched: false });
    expect(lines).toEqual([`${HOOK_FAILED} instrumentation start of ${name} failed; the measurement is dropped and the app is unaffected: Error: broken`]);
  });
});

test('eagerActivation starts at once (the ESM loader must learn the module names first)', () => {
  const { name } = fakePackage();
  const { calls, enable } = patching(name);
  const disable = eagerActivation()([name], enable);
  expect(calls.enabled).toBe(1);
  disable();
  expect(calls.disabled).toBe(1);
});

describe('containment: the app loads its modules as without the hook when the hook itself fails', () => {
  const activate = lazyActivation();
  const lines: string[] = [];
  beforeAll(() => setContainmentLog((line) => lines.push(line)));
  const working = loadHookStep.reissueOf;
  const breakHook = () => {
    loadHookStep.reissueOf = () => {
      throw new Error('injected');
    };
  };
  afterEach(() => {
    loadHookStep.reissueOf = working;
  });

  test("a tracked package: the app gets it (unpatched), Node's _load is called once with the same arguments; one ODM001 line", () => {
    const { name } = fakePackage();
    const { calls, enable } = patching(name);
    activate([name], enable);
    breakHook();
    let exports: unknown;
    expect(callsReachingNode(() => (exports = requireFromApp()(name)))).toEqual([[name, appModule(), false]]);
    expect(exports).toEqual({ patched: false });
    expect(calls.enabled).toBe(0);
    expect(lines).toEqual([`${HOOK_FAILED} module load hook failed; the measurement is dropped and the app is unaffected: Error: injected`]);
  });

  test("an ES module import of a tracked package's file: the app gets it, through Node's _load once", async () => {
    const { name, main } = fakePackage();
    activate([name], patching(name).enable);
    breakHook();
    reachedNode.length = 0;
    const imported = (await import(pathToFileURL(main).href)) as { default: unknown };
    expect(imported.default).toEqual({ patched: false });
    expect(reachedNode.splice(0)).toEqual([[main, undefined, false]]);
  });

  test.each([
    ['the hook failing', breakHook],
    ['the hook working, starting the instrumentation', () => {}],
  ])("a tracked package that is not installed, %s: Node's MODULE_NOT_FOUND reaches the app as it is", (_, setUp) => {
    const name = `missing-lib-${process.pid}-${++seq}`;
    const { calls, enable } = patching(name);
    activate([name], enable);
    setUp();
    const parent = new Module(join(root, 'app.js'));
    parent.filename = join(root, 'app.js');
    parent.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(root);
    const load = () => (Module.prototype.require as (this: unknown, id: string) => unknown).call(parent, name);
    expect(thrown(load)).toEqual(thrown(() => nodeLoad(name, parent, false)));
    expect(thrown(load)).toMatchObject({ code: 'MODULE_NOT_FOUND', requireStack: [join(root, 'app.js')] });
    expect(callsReachingNode(load)).toEqual([[name, parent, false]]);
    expect(calls.enabled).toBe(setUp === breakHook ? 0 : 1);
  });

  test("a request the hook cannot read (not a string): Node's own error, from one call", () => {
    const parent = new Module(join(root, 'app.js'));
    const load = () => loader._load(42, parent, false);
    expect(thrown(load)).toEqual(thrown(() => nodeLoad(42, parent, false)));
    expect(thrown(load)).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    expect(callsReachingNode(load)).toEqual([[42, parent, false]]);
  });
});
