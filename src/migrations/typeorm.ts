import { InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { contain } from '../contain.js';
import { commonJsExports } from '../otel/commonjs-exports.js';
import type { Disable } from '../otel/package-loads.js';
import { afterSettled, enableToolPatches, soon, wrapMethod } from './tool-runs.js';
import type { MigrationTracker } from './tracker.js';
import { TypeormSources, type DataSourceLike } from './typeorm-source.js';

/** Tested with TypeORM 0.3.31; relied on: `DataSource#initialize/runMigrations/undoLastMigration`, driver query runners. */
const TYPEORM_VERSIONS = ['>=0.3.0 <0.4'];

/**
 * TypeORM: every DataSource whose `initialize()` resolves is a source; `runMigrations` and
 * `undoLastMigration` re-read it when they resolve or reject. The wrappers compose with other
 * patches of the same methods (the model-operations subscriber also hooks `initialize`), in
 * either order (see `wrapMethod`).
 */
export function enableTypeormMigrations(tracker: MigrationTracker): Disable {
  const sources = new TypeormSources(tracker);
  const undo: Disable[] = [];
  const patched = new WeakSet<object>();
  // After the app's own continuation: a `setDbAlias` right after `await initialize()` is seen.
  const found = (ranMigrations: boolean) => (self: unknown, fulfilled: boolean) => {
    if (fulfilled || ranMigrations) soon('typeorm migrations discovery', () => sources.found(self as DataSourceLike, ranMigrations));
  };

  const disablePatches = enableToolPatches('typeorm', () => [
    new InstrumentationNodeModuleDefinition(
      'typeorm',
      TYPEORM_VERSIONS,
      (exported: unknown) => {
        contain('typeorm migrations patch', () => {
          const prototype = (commonJsExports(exported) as { DataSource?: { prototype: object } }).DataSource?.prototype;
          if (prototype === undefined || patched.has(prototype)) return;
          patched.add(prototype);
          undo.push(wrapMethod(prototype, 'initialize', afterSettled('typeorm migrations initialize', found(false))));
          const refreshAfter = afterSettled('typeorm migrations run', found(true));
          for (const name of ['runMigrations', 'undoLastMigration']) undo.push(wrapMethod(prototype, name, refreshAfter));
        });
        return exported;
      },
      (exported: unknown) => exported,
    ),
  ]);
  return () => {
    disablePatches();
    for (const step of undo.splice(0)) step();
    sources.stop();
  };
}
