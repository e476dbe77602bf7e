/**
 * Prisma migrations, discovered without user code. A Prisma 7 client connects its driver adapter
 * lazily, at its first `$connect` or query, through the adapter factory's `connect()`: wrapping
 * `@prisma/adapter-pg`'s gives the connected adapter (to read `_prisma_migrations` through) and,
 * from the calling frames, the generated client (to find its migrations folder).
 */
import { InstrumentationNodeModuleDefinition, isWrapped, type InstrumentationModuleDefinition } from '@opentelemetry/instrumentation';
import { safe } from '../contain.js';
import { DriverInstrumentation, type PatchableExports } from '../db/driver-instrumentation.js';
import type { AnyMethod } from '../db/own-methods.js';
import { logLine } from '../log.js';
import type { Disable } from '../otel/package-loads.js';
import { callingRuntime, migrationsFolderOf } from './prisma-schema-location.js';
import { PrismaSources, type PgAdapter } from './prisma-source.js';
import type { MigrationTracker } from './tracker.js';

/** Tested with 7.10.1: the factory's `connect()` and the adapter interface of Prisma 7's driver adapters. */
const VERSIONS = ['>=7 <8'];

class PrismaMigrations extends DriverInstrumentation {
  /** Each generated client's migrations folder, looked up once. */
  private readonly folders = new Map<string, Promise<string | undefined>>();

  constructor(private readonly sources: PrismaSources) {
    super('prisma');
  }

  protected init(): InstrumentationModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        '@prisma/adapter-pg',
        VERSIONS,
        (exported: { PrismaPg: PatchableExports }) => {
          // The package's CommonJS file and, with the ESM hook, its ES module view export one class: wrap once.
          const proto = (exported.PrismaPg as { prototype?: Record<string, unknown> }).prototype;
          if (!isWrapped(proto?.connect)) this.patchPrototype(exported.PrismaPg, 'connect', (original) => this.discoveringConnect(original));
          return exported;
        },
        (exported?: { PrismaPg: PatchableExports }) => this.unpatchPrototype(exported?.PrismaPg, 'connect'),
      ),
    ];
  }

  private discoveringConnect(original: AnyMethod): AnyMethod {
    const instrumentation = this;
    return function connect(this: unknown) {
      const runtime = findRuntime();
      const connecting = Reflect.apply(original, this, arguments);
      if (runtime !== undefined) instrumentation.watch(connecting, runtime);
      return connecting;
    };
  }

  /** Once the adapter is connected, its client's source is tracked (a side chain: the app's promise is returned as it was). */
  private readonly watch = safe('prisma migrations discovery', (connecting: unknown, runtime: string) => {
    if (typeof (connecting as Promise<unknown> | null)?.then !== 'function') return;
    (connecting as Promise<PgAdapter>).then(
      (adapter) => this.connected(adapter, runtime),
      () => {},
    );
  });

  private readonly connected = safe('prisma migrations connected', (adapter: PgAdapter, runtime: string) => {
    this.sources.connected(adapter, this.folderOf(runtime));
  });

  private folderOf(runtime: string): Promise<string | undefined> {
    let folder = this.folders.get(runtime);
    if (folder === undefined) {
      folder = migrationsFolderOf(runtime).then(
        (found) => found ?? notFound(runtime),
        (err: unknown) => notFound(runtime, err),
      );
      this.folders.set(runtime, folder);
    }
    return folder;
  }
}

/** The Prisma runtime that is connecting; `undefined` for calls from elsewhere (`prisma migrate`'s shadow database). */
const findRuntime = safe('prisma migrations caller', callingRuntime);

function notFound(runtime: string, err?: unknown): undefined {
  const reason = err instanceof Error ? `: ${err.message}` : '';
  logLine(`migrations: cannot find the Prisma schema of the client that loaded ${runtime} (no .prisma file identical to its generated copy where its output points)${reason}; its migrations are not tracked`);
  return undefined;
}

/**
 * Tracks the migrations of every Prisma client connecting through `@prisma/adapter-pg`. Returns
 * the function that removes the hook and the sources.
 */
export function enablePrismaMigrations(tracker: MigrationTracker): Disable {
  const sources = new PrismaSources(tracker);
  const instrumentation = new PrismaMigrations(sources);
  instrumentation.enable();
  return () => {
    instrumentation.disable();
    sources.stop();
  };
}
