import type { Disable } from '../otel/package-loads.js';
import { afterSettled } from './method-wrappers.js';
import { enableClassPatches } from './tool-patches.js';
import { soon } from './tool-sources.js';
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
  // After the app's own continuation: a `setDbAlias` right after `await initialize()` is seen.
  const found = (ranMigrations: boolean) => (self: unknown, fulfilled: boolean) => {
    if (fulfilled || ranMigrations) soon('typeorm migrations discovery', () => sources.found(self as DataSourceLike, ranMigrations));
  };

  const disablePatches = enableClassPatches('typeorm', 'typeorm', TYPEORM_VERSIONS, {
    exportName: 'DataSource',
    site: 'typeorm migrations patch',
    wrappers: () => {
      const refreshAfter = afterSettled('typeorm migrations run', found(true));
      return { initialize: afterSettled('typeorm migrations initialize', found(false)), runMigrations: refreshAfter, undoLastMigration: refreshAfter };
    },
  });
  return () => {
    disablePatches();
    sources.stop();
  };
}
