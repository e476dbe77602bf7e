import { createAddHookMessageChannel } from 'import-in-the-middle';
import { readFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { compileFunction } from 'node:vm';

const require = createRequire(import.meta.url);

/**
 * Whether to register import-in-the-middle's ESM loader. It is what lets instrumentations patch
 * packages an ES module imports, but Node 20 runs loader hooks on a worker thread whose start
 * blocks the preload for 40-70 ms. A CommonJS app loads every package through `require`, which the
 * instrumentations patch without it; so the loader is left out exactly when the entry point is
 * surely CommonJS (see `isCommonJsEntry`). `setting` (PROMETHEUS_ESM_HOOK) forces either way.
 */
export function needsEsmHook(setting: boolean | undefined, entry: string | undefined): boolean {
  return setting ?? !isCommonJsEntry(entry);
}

/**
 * True when Node will run `entry` (process.argv[1]) as CommonJS: a `.cjs`/`.cts` file; or any
 * other file under a nearest package.json with `"type": "commonjs"`; or a `.js` or extensionless
 * file under one without a "type" whose source parses as CommonJS (Node 22 runs ES module syntax
 * there as ESM). False when in doubt: no entry (`-e`, REPL), unresolvable, unreadable.
 */
export function isCommonJsEntry(entry: string | undefined): boolean {
  if (entry === undefined) return false;
  try {
    const file = require.resolve(resolve(entry));
    const ext = extname(file);
    if (ext === '.cjs' || ext === '.cts') return true;
    if (ext === '.mjs' || ext === '.mts') return false;
    const type = packageType(dirname(file));
    if (type !== undefined) return type === 'commonjs';
    return (ext === '.js' || ext === '') && parsesAsCommonJs(file);
  } catch {
    return false;
  }
}

/** The "type" of the nearest package.json, as Node looks it up; `undefined` if it has none or there is none. */
function packageType(dir: string): 'module' | 'commonjs' | undefined {
  for (;;) {
    let text: string;
    try {
      text = readFileSync(join(dir, 'package.json'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (dirname(dir) === dir) return undefined;
      dir = dirname(dir);
      continue;
    }
    const { type } = JSON.parse(text) as { type?: unknown };
    return type === 'module' || type === 'commonjs' ? type : undefined;
  }
}

function parsesAsCommonJs(file: string): boolean {
  try {
    compileFunction(readFileSync(file, 'utf8').replace(/^#!.*/, ''), [], { filename: file });
    return true;
  } catch {
    return false;
  }
}

/**
 * Registers the loader. It wraps only the modules that instrumentations ask for over the message
 * channel, so the app's other imports are untouched. Returns the wait for it to have received
 * every such request (call it once the instrumentations are enabled).
 */
export function registerEsmHook(): () => Promise<void> {
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  return waitForAllMessagesAcknowledged;
}
