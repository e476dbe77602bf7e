import { InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { contain } from '../contain.js';
import type { Disable } from '../otel/package-loads.js';
import { replaceExport, Replacements } from './export-patches.js';
import { afterSettled, type Method } from './method-wrappers.js';
import { nodePgMigrateSource, type RunnerOptions } from './node-pg-migrate-source.js';
import { enableToolPatches, keep } from './tool-patches.js';
import { soon } from './tool-sources.js';
import type { MigrationHandle, MigrationTracker } from './tracker.js';

/** Tested with node-pg-migrate 9.0 (ES module only; `runner` is its programmatic API). */
const VERSIONS = ['>=9.0.0 <10'];

/**
 * node-pg-migrate: each `runner()` call is a source (database, migrations table, folder), found
 * when the run ends, either way, and read again after every later run on it. Its CLI runs in a
 * process of its own, without the preload: an app that migrates through the CLI tracks the table
 * with `trackMigrations`. The package is an ES module: an app's `import` of it reaches this hook
 * only through the ESM loader (PROMETHEUS_ESM_HOOK=true); a `require()` of it does without.
 */
export function enableNodePgMigrateMigrations(tracker: MigrationTracker): Disable {
  const handles = new Map<string, MigrationHandle>();
  let active = true;

  const runEnded = (options: RunnerOptions): void => {
    if (!active) return;
    const source = nodePgMigrateSource(options);
    if (source === undefined) return;
    const known = handles.get(source.key);
    if (known === undefined) handles.set(source.key, tracker.add(source));
    else void known.refresh();
  };

  const wrappers = new Replacements<Method>();
  const disablePatches = enableToolPatches('node-pg-migrate', (onDisable) => [
    new InstrumentationNodeModuleDefinition(
      'node-pg-migrate',
      VERSIONS,
      (exported: { runner?: unknown }) => {
        const runner = exported.runner;
        if (typeof runner !== 'function') return exported;
        const wrapper = wrappers.of(runner as Method, () =>
          runnerWithRefresh(runner as Method, (options) => {
            // After the run's own continuations, off the app's stack.
            if (active) soon('node-pg-migrate migrations source', () => runEnded(options as RunnerOptions));
          }),
        );
        const replaced = contain('node-pg-migrate migrations patch', () => replaceExport(exported, 'runner', wrapper));
        if (replaced === undefined) return exported;
        // A copy handed to a `require()` cannot be taken back: it goes inert instead.
        onDisable(replaced.undo);
        return replaced.exports;
      },
      keep,
    ),
  ]);
  return () => {
    active = false;
    disablePatches();
    for (const handle of handles.values()) contain('node-pg-migrate migrations stop', () => handle.stop());
    handles.clear();
  };
}

/** `runner` calling `ended(options)` once its run settles; the run itself is the app's, untouched. */
function runnerWithRefresh(original: Method, ended: (options: unknown) => void): Method {
  return function runner(this: unknown, options: unknown): unknown {
    return afterSettled('node-pg-migrate migrations run', () => ended(options))(original).apply(this, arguments as unknown as unknown[]);
  };
}
