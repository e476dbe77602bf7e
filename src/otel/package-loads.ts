import Module, { createRequire } from 'node:module';
import { isAbsolute, sep } from 'node:path';
import { contain, safe } from '../contain.js';

/** Stops an instrumentation: cancels its start if it is still waiting, else disables it. */
export type Disable = () => void;

/**
 * How the distribution starts an instrumentation of `packages`: `enable` loads its code, patches
 * and returns its `Disable`. It runs inside the app's `require`/`import`, so a throw is logged,
 * never raised.
 */
export type Activation = (packages: readonly string[], enable: () => Disable) => Disable;

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;
const loader = Module as unknown as { _load: Load };

interface Waiting {
  enable: () => void;
  started: boolean;
}

/** Activations not started yet, by the packages any of which starts them. */
const waiting = new Map<string, Waiting[]>();
/** Every package an activation ever waited for: ES module imports of these are passed through `require`. */
const tracked = new Set<string>();
/** The tracked packages the app has loaded since the hook was installed. */
const loaded = new Set<string>();
let hookInstalled = false;

/**
 * Each instrumentation starts when the app first loads one of its packages, so an app pays only
 * for the instrumentations of the packages it uses, and only then. The instrumentations patch
 * through require-in-the-middle (RITM), which hooks `require`; this hooks `Module._load` below it,
 * which also sees a package an ES module imports: Node loads an imported CommonJS file with
 * `Module._load(filename)`, not `require`. On the first load of a package its instrumentation
 * is enabled and that load re-issued through `require`, and every later ES module import of a
 * tracked package's file too, so RITM patches it as if it were required, without the ESM loader.
 * (A re-issued require that RITM is already processing is passed through by its own guard.)
 * A package loaded before is started at once (a restarted distribution re-enables its patches).
 */
export function lazyActivation(): Activation {
  installHook();
  return (packages, enable) => {
    let disable: Disable | undefined;
    const entry: Waiting = { enable: () => (disable = started(packages, enable)), started: false };
    for (const name of packages) tracked.add(name);
    if (packages.some((name) => loaded.has(name))) start(entry);
    else for (const name of packages) waiting.set(name, [...(waiting.get(name) ?? []), entry]);
    return () => {
      entry.started = true; // cancels it if still waiting
      disable?.();
      disable = undefined;
    };
  };
}

/** Starts every instrumentation now: the ESM loader must learn their module names before the app imports them. */
export function eagerActivation(): Activation {
  return (packages, enable) => started(packages, enable);
}

/** Starts an instrumentation inside the containment primitive: one that fails to start leaves its package as it was. */
function started(packages: readonly string[], enable: () => Disable): Disable {
  return contain(`instrumentation start of ${packages.join(', ')}`, enable) ?? (() => {});
}

function start(entry: Waiting): boolean {
  if (entry.started) return false;
  entry.started = true;
  entry.enable();
  return true;
}

/** Starts what waits for `name`; true if anything started. */
function startWaiting(name: string): boolean {
  const entries = waiting.get(name);
  if (entries === undefined) return false;
  waiting.delete(name);
  let any = false;
  for (const entry of entries) any = start(entry) || any;
  return any;
}

/** The hook stays for the process: it is cheap, and a restarted distribution relies on `loaded`. */
function installHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  const original = loader._load;
  loader._load = function (this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
    // Only the decision is ours and contained; the load runs outside it, so its errors reach the app as they are.
    const reissue = decide(request, parent, isMain);
    return reissue === undefined ? original.call(this, request, parent, isMain) : reissue(request);
  };
}

/** Loads a module again through `require`, so that RITM sees it. */
type Reissue = (request: string) => unknown;

/**
 * The hook's own step, on an object so that a test can make it fail (the package's exports do not
 * reach this module). When it throws, the load goes to the original `_load` untouched.
 */
export const loadHookStep = { reissueOf };

const decide = safe('module load hook', (request: string, parent: unknown, isMain: boolean) => loadHookStep.reissueOf(request, parent, isMain));

/**
 * Notes a load of a tracked package and starts what waits for it; returns how to re-issue the
 * load through `require`, or `undefined` to pass it to the original `_load`.
 */
function reissueOf(request: string, parent: unknown, isMain: boolean): Reissue | undefined {
  const name = packageOf(request);
  if (name === undefined || !tracked.has(name)) return undefined;
  loaded.add(name);
  const startedNow = startWaiting(name);
  if (parent) {
    // Read at the call: RITM replaces `Module.prototype.require` when an instrumentation starts.
    return startedNow ? (id) => (Module.prototype.require as (this: unknown, id: string) => unknown).call(parent, id) : undefined;
  }
  // No parent: an ES module import of a CommonJS file (its absolute filename), or the entry point.
  if (isMain || !isAbsolute(request)) return undefined;
  return createRequire(request);
}

const NODE_MODULES = `${sep}node_modules${sep}`;

/**
 * The package a `Module._load` request names: a bare specifier's (`pg`, `pg/lib/x`, `@redis/client`),
 * or for an absolute filename that of its innermost `node_modules` directory; `undefined` for
 * relative requests (a package's own files) and builtins' `node:` names.
 */
export function packageOf(request: string): string | undefined {
  if (request.startsWith('.') || request.startsWith('node:')) return undefined;
  let start = 0;
  let separator = '/';
  if (isAbsolute(request)) {
    const at = request.lastIndexOf(NODE_MODULES);
    if (at < 0) return undefined;
    start = at + NODE_MODULES.length;
    separator = sep;
  }
  let end = request.indexOf(separator, start);
  if (request[start] === '@' && end >= 0) end = request.indexOf(separator, end + 1);
  const name = request.slice(start, end < 0 ? undefined : end);
  return separator === '/' ? name : name.split(separator).join('/');
}
