/**
 * Prisma migrations, discovered without user code. A Prisma 7 client connects its driver adapter
 * lazily, at its first `$connect` or query, through the adapter factory's `connect()`: wrapping
 * `@prisma/adapter-pg`'s gives the connected adapter (to read `_prisma_migrations` through) and,
 * from the calling frames, the generated client (to find its migrations folder).
 */
import { contain, safe } from '../contain.js';
import { logLine } from '../log.js';
import { whenFulfilled } from '../models/entity-bulk.js';
import type { Disable } from '../otel/package-loads.js';
import type { Method } from './method-wrappers.js';
import { callingRuntime, migrationsFolderOf } from './prisma-schema-location.js';
import { PrismaSources, type PgAdapter } from './prisma-source.js';
import { enableClassPatches } from './tool-patches.js';
import type { MigrationTracker } from './tracker.js';

/** Tested with 7.10.1; relied on: the factory's `connect()` and the driver-adapter interface of Prisma 7. */
const VERSIONS = ['>=7 <8'];

/** The Prisma runtime that is connecting; `undefined` for calls from elsewhere (`prisma migrate`'s shadow database). */
const findRuntime = safe('prisma migrations caller', callingRuntime);

/**
 * Tracks the migrations of every Prisma client connecting through `@prisma/adapter-pg`. Returns
 * the function that removes the hook and the sources.
 */
export function enablePrismaMigrations(tracker: MigrationTracker): Disable {
  const sources = new PrismaSources(tracker);
  /** Each generated client's migrations folder, by its runtime file: looked up once. */
  const folders = new Map<string, Promise<string | undefined>>();

  const connected = safe('prisma migrations connected', (adapter: unknown, runtime: string) => {
    sources.connected(adapter as PgAdapter);
    let folder = folders.get(runtime);
    if (folder === undefined) {
      folder = migrationsFolderOf(runtime).then(
        (found) => found ?? notFound(runtime),
        (err: unknown) => notFound(runtime, err),
      );
      folders.set(runtime, folder);
    }
    void folder.then((found) => {
      if (found !== undefined) contain('prisma migrations source', () => sources.found(adapter as PgAdapter, found));
    });
  });

  // The app's promise is returned as the factory made it; the adapter is picked up on a side branch.
  const discovering = (original: Method): Method =>
    function connect(this: unknown): unknown {
      const runtime = findRuntime();
      const connecting = original.apply(this, arguments as unknown as unknown[]);
      if (runtime !== undefined) whenFulfilled(connecting, (adapter) => connected(adapter, runtime));
      return connecting;
    };

  const disablePatches = enableClassPatches('prisma', '@prisma/adapter-pg', VERSIONS, {
    exportName: 'PrismaPg',
    site: 'prisma migrations patch',
    wrappers: () => ({ connect: discovering }),
  });
  return () => {
    disablePatches();
    sources.stop();
  };
}

function notFound(runtime: string, err?: unknown): undefined {
  const reason = err instanceof Error ? `: ${err.message}` : '';
  logLine(`migrations: cannot find the Prisma schema of the client that loaded ${runtime} (no .prisma file identical to its generated copy where its output points)${reason}; its migrations are not tracked`);
  return undefined;
}
