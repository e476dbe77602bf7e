import { InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile } from '@opentelemetry/instrumentation';
import { contain, safe } from '../contain.js';
import type { Disable } from '../otel/package-loads.js';
import { replaceExport, Replacements, watchConstruction } from './export-patches.js';
import { KyselySources, readingCounts, type KyselyInstance, type KyselyMigrator, type MigratorProps } from './kysely-source.js';
import { afterSettled, type Method, type MethodWrapper } from './method-wrappers.js';
import { enableToolPatches, keep, methodPatcher, type MethodWrappers } from './tool-patches.js';
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
  const watched = new Replacements<Class>();

  const markDestroyed = safe('kysely destroy', (db: unknown) => active && sources.kyselyDestroyed(db as KyselyInstance));
  const quiet = safe('kysely log', readingCounts);
  /** What each class's construction tells, and the wrappers of its prototype's methods. */
  const CLASSES: Record<string, { seen?: (instance: object, args: unknown[]) => void; methods?: () => MethodWrappers }> = {
    Migrator: {
      seen: (migrator, [props]) => active && sources.migratorCreated(migrator as KyselyMigrator, props as MigratorProps),
      methods: () => {
        const refreshAfter = afterSettled('kysely migrations run', (self) => active && sources.runEnded(self as KyselyMigrator));
        return Object.fromEntries(RUNS.map((name) => [name, refreshAfter]));
      },
    },
    Kysely: {
      seen: (db, [config]) => active && sources.kyselyCreated(db as KyselyInstance, config as { dialect?: unknown }),
      methods: () => ({ destroy: before(markDestroyed) }),
    },
    PostgresDialect: { seen: (dialect, [config]) => active && sources.dialectCreated(dialect, config as { pool?: unknown }) },
    // The app's `log` option (a function, or Kysely's console logger) must not see the reads' queries.
    Log: {
      methods: () => {
        const unlessReading = (original: Method): Method =>
          function (this: unknown): unknown {
            return quiet() === true ? Promise.resolve() : original.apply(this, arguments as unknown as unknown[]);
          };
        return { query: unlessReading, error: unlessReading };
      },
    },
  };

  const disablePatches = enableToolPatches('kysely', (onDisable) => {
    const wrapOnce = methodPatcher(onDisable);
    const watch = (exports: Record<string, unknown>, name: string): unknown => {
      const cls = exports[name] as Class | undefined;
      if (typeof cls !== 'function' || watched.isReplacement(cls)) return exports;
      const { seen, methods } = CLASSES[name]!;
      if (methods !== undefined) wrapOnce(cls.prototype, methods);
      if (seen === undefined) return exports;
      const replaced = replaceExport(exports, name, watched.of(cls, () => watchConstruction(cls, `kysely ${name} construction`, seen)));
      onDisable(replaced.undo);
      return replaced.exports;
    };
    /** `exported` with the named classes watched (each class once, whichever module object shows it first). */
    const withWatched = (exported: unknown, names: readonly string[]): unknown =>
      names.reduce((current, name) => contain(`kysely ${name} patch`, () => watch(current as Record<string, unknown>, name)) ?? current, exported);
    const file = (path: string, name: string) => new InstrumentationNodeModuleFile(`kysely/dist/cjs/${path}`, VERSIONS, (exported: unknown) => withWatched(exported, [name]), keep);
    return [
      new InstrumentationNodeModuleDefinition('kysely', VERSIONS, (exported: unknown) => withWatched(exported, Object.keys(CLASSES)), keep, [
        file('migration/migrator.js', 'Migrator'),
        file('kysely.js', 'Kysely'),
        file('dialect/postgres/postgres-dialect.js', 'PostgresDialect'),
        file('util/log.js', 'Log'),
      ]),
    ];
  });
  return () => {
    active = false;
    disablePatches();
    sources.stop();
  };
}

/** `method` calling `step(this)` (contained) before the original. */
function before(step: (self: unknown) => void): MethodWrapper {
  return (original) =>
    function (this: unknown): unknown {
      step(this);
      return original.apply(this, arguments as unknown as unknown[]);
    };
}
