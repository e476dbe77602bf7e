import { InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile } from '@opentelemetry/instrumentation';
import { contain, safe } from '../contain.js';
import type { Disable } from '../otel/package-loads.js';
import { replaceExport, watchConstruction } from './kysely-exports.js';
import { KyselySources, readingCounts, type KyselyInstance, type KyselyMigrator, type MigratorProps } from './kysely-source.js';
import { afterSettled, enableToolPatches, wrapMethod, type Method } from './tool-runs.js';
import type { MigrationTracker } from './tracker.js';

/** Tested with Kysely 0.28; the CommonJS files relied on are those of its `dist/cjs` build. */
const VERSIONS = ['>=0.28.0 <0.29'];

/** The Migrator methods that run migrations; `getMigrations` only reads. */
const RUNS = ['migrateToLatest', 'migrateUp', 'migrateDown', 'migrateTo'];

type Class = abstract new (...args: never[]) => object;

/**
 * Kysely: every Migrator the app constructs is a source, read again when one of its runs
 * resolves; constructing a Kysely on a PostgresDialect tells which pg Pool (and so which
 * database) a Migrator's `db` uses, and `destroy()` that it can no longer be read through. The
 * app's query log (Kysely's `log` option) does not see the reads. The classes are watched by
 * replacing their exports: a CommonJS `require` patches the files that define them; an ES
 * module import is seen only through the ESM loader hook (PROMETHEUS_ESM_HOOK=true), on the
 * package's namespace.
 */
export function enableKyselyMigrations(tracker: MigrationTracker): Disable {
  const sources = new KyselySources(tracker);
  let active = true;
  const undo: Disable[] = [];
  const watched = new WeakMap<Class, Class>();
  const watchers = new WeakSet<Class>();

  const markDestroyed = safe('kysely destroy', (db: unknown) => active && sources.kyselyDestroyed(db as KyselyInstance));
  const quiet = safe('kysely log', readingCounts);
  /** What each class's construction and prototype tell, or change. */
  const CLASSES: Record<string, { seen?: (instance: object, args: unknown[]) => void; prototype?: (prototype: object) => void }> = {
    Migrator: {
      seen: (migrator, [props]) => active && sources.migratorCreated(migrator as KyselyMigrator, props as MigratorProps),
      prototype: (prototype) => {
        const refreshAfter = afterSettled('kysely migrations run', (self) => active && sources.runEnded(self as KyselyMigrator));
        for (const name of RUNS) undo.push(wrapMethod(prototype, name, refreshAfter));
      },
    },
    Kysely: {
      seen: (db, [config]) => active && sources.kyselyCreated(db as KyselyInstance, config as { dialect?: unknown }),
      prototype: (prototype) => undo.push(wrapMethod(prototype, 'destroy', before(markDestroyed))),
    },
    PostgresDialect: { seen: (dialect, [config]) => active && sources.dialectCreated(dialect, config as { pool?: unknown }) },
    // The app's `log` option (a function, or Kysely's console logger) must not see the reads' queries.
    Log: {
      prototype: (prototype) => {
        const unlessReading = (original: Method): Method =>
          function (this: unknown): unknown {
            return quiet() === true ? Promise.resolve() : original.apply(this, arguments as unknown as unknown[]);
          };
        for (const name of ['query', 'error']) undo.push(wrapMethod(prototype, name, unlessReading));
      },
    },
  };

  /** `exported` with the named classes watched (each class once, whichever module object shows it first). */
  const withWatched = (exported: unknown, names: readonly string[]): unknown =>
    names.reduce((current, name) => contain(`kysely ${name} patch`, () => watch(current as Record<string, unknown>, name)) ?? current, exported);

  const prototypes = new WeakSet<object>();
  const watch = (exports: Record<string, unknown>, name: string): unknown => {
    const cls = exports[name] as Class | undefined;
    if (typeof cls !== 'function' || watchers.has(cls)) return exports;
    const { seen, prototype } = CLASSES[name]!;
    if (!prototypes.has(cls.prototype)) {
      prototypes.add(cls.prototype);
      prototype?.(cls.prototype);
    }
    if (seen === undefined) return exports;
    let watcher = watched.get(cls);
    if (watcher === undefined) {
      watcher = watchConstruction(cls, `kysely ${name} construction`, seen);
      watched.set(cls, watcher);
      watchers.add(watcher);
    }
    const replaced = replaceExport(exports, name, watcher);
    undo.push(replaced.undo);
    return replaced.exports;
  };

  const file = (path: string, name: string) => new InstrumentationNodeModuleFile(`kysely/dist/cjs/${path}`, VERSIONS, (exported: unknown) => withWatched(exported, [name]), keep);
  const disablePatches = enableToolPatches('kysely', () => [
    new InstrumentationNodeModuleDefinition('kysely', VERSIONS, (exported: unknown) => withWatched(exported, Object.keys(CLASSES)), keep, [
      file('migration/migrator.js', 'Migrator'),
      file('kysely.js', 'Kysely'),
      file('dialect/postgres/postgres-dialect.js', 'PostgresDialect'),
      file('util/log.js', 'Log'),
    ]),
  ]);
  return () => {
    active = false;
    disablePatches();
    for (const step of undo.splice(0).reverse()) step();
    sources.stop();
  };
}

/** `method` calling `step(this)` (contained) before the original. */
function before(step: (self: unknown) => void): (original: Method) => Method {
  return (original) =>
    function (this: unknown): unknown {
      step(this);
      return original.apply(this, arguments as unknown as unknown[]);
    };
}

/** Module-level unpatching is not used: the replacements are undone (or go inert) by the Disable. */
const keep = (exported: unknown): unknown => exported;
