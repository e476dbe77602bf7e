import { contain } from '../contain.js';
import type { Disable } from '../otel/package-loads.js';
import { afterSettled, type Method } from './method-wrappers.js';
import { enableClassPatches } from './tool-patches.js';
import { soon } from './tool-sources.js';
import type { MigrationTracker } from './tracker.js';
import { UmzugSources, type UmzugLike } from './umzug-source.js';

/** Tested with umzug 3.8; relied on: the constructor resolves its migrations with `getMigrationsResolver`, as every 3.x does. */
const UMZUG_VERSIONS = ['>=3.0.0 <4'];

/**
 * umzug: every `Umzug` constructed is a source. Its constructor calls the prototype's
 * `getMigrationsResolver` once (`this.storage` already set); that call finds the instance, read
 * soon off the app's stack. `up`/`down` re-read its source when they resolve or reject.
 */
export function enableUmzugMigrations(tracker: MigrationTracker): Disable {
  let sources: UmzugSources | undefined;

  const disablePatches = enableClassPatches('umzug', 'umzug', UMZUG_VERSIONS, {
    exportName: 'Umzug',
    site: 'umzug migrations patch',
    wrappers: (umzug) => {
      const found = (sources ??= new UmzugSources(tracker, { SequelizeStorage: umzug.SequelizeStorage, JSONStorage: umzug.JSONStorage }));
      const refreshAfter = afterSettled('umzug migrations run', (self) => found.runEnded(self as UmzugLike));
      return { getMigrationsResolver: (original) => discovering(original, found), up: refreshAfter, down: refreshAfter };
    },
  });
  return () => {
    disablePatches();
    sources?.stop();
  };
}

/** `getMigrationsResolver` also runs for lazily listed migrations at each read: an instance is found once. */
function discovering(original: Method, sources: UmzugSources): Method {
  const seen = new WeakSet<object>();
  return function getMigrationsResolver(this: unknown): unknown {
    const resolver = original.apply(this, arguments as unknown as unknown[]);
    contain('umzug instance', () => {
      const umzug = this as UmzugLike;
      if (seen.has(umzug)) return;
      seen.add(umzug);
      // After the app's synchronous setup: the constructor has returned, a `setDbAlias` is seen.
      soon('umzug migrations discovery', () => sources.constructed(umzug));
    });
    return resolver;
  };
}
