import { InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile } from '@opentelemetry/instrumentation';
import { contain } from '../contain.js';
import { commonJsExports } from '../otel/commonjs-exports.js';
import type { Disable } from '../otel/package-loads.js';
import { Replacements } from './export-patches.js';
import type { KnexMigrationConfig } from './knex-read.js';
import { KnexSources, type KnexFinding, type SourceClient } from './knex-source.js';
import { afterSettled, type Method } from './method-wrappers.js';
import { enableToolPatches, keep, patchClassMethods, type ClassMethods } from './tool-patches.js';
import { soon } from './tool-sources.js';
import type { MigrationTracker } from './tracker.js';

/** Tested with knex 3.3; the internal files relied on (`make-knex.js`, `Migrator.js`) are those of every 3.x. */
const KNEX_VERSIONS = ['>=3.0.0 <4'];

/** The Migrator methods that run migrations (`to`/`before` where the version has them); `list`, `status`, `make` change nothing counted. */
const RUNS = ['latest', 'up', 'down', 'rollback', 'to', 'before'];

/** A knex instance: a function with its client (and, through the `migrate` getter, a new Migrator). */
interface KnexInstance {
  client: SourceClient & { transacting?: boolean };
  readonly migrate: Migrator;
}

interface Migrator {
  knex: { client: SourceClient };
  config: KnexMigrationConfig;
}

/**
 * knex: every instance the app creates (knex's `makeKnex`, which also makes each transaction's
 * transactor, skipped) is looked at once, off the app's stack, and is a source if it has
 * migrations to count; each Migrator run (`latest/up/down/rollback`, and `to/before`) re-reads
 * its source when it resolves or rejects.
 */
export function enableKnexMigrations(tracker: MigrationTracker): Disable {
  const sources = new KnexSources(tracker);
  /** The instance and client behind each pool: a Migrator works on copies of them, sharing the pool. */
  const owners = new WeakMap<object, { instance: KnexInstance; client: SourceClient }>();
  let active = true;

  const created = (instance: KnexInstance): void => {
    const client = instance.client;
    if (!active || client.transacting === true || client.pool === undefined) return;
    owners.set(client.pool, { instance, client });
    // After the app's synchronous setup (a `setDbAlias` right after creating it is seen).
    soon('knex migrations discovery', () => sources.instanceCreated(findingOf(instance, instance.migrate.config), client.config.migrations !== undefined));
  };

  const runEnded = (migrator: Migrator): void => {
    const copy = migrator.knex.client;
    const owner = copy.pool === undefined ? undefined : owners.get(copy.pool);
    const finding = owner === undefined ? { client: copy, config: migrator.config, aliasObjects: [migrator.knex, copy, copy.pool] } : findingOf(owner.instance, migrator.config);
    if (finding.client.pool !== undefined) soon('knex migrations refresh', () => sources.runEnded(finding));
  };

  // makeKnex is the module's whole export, captured by knex's other files: it is replaced once
  // and goes inert on disable.
  const makeKnexWrappers = new Replacements<Method>();
  const withMakeKnexWatched = (exported: unknown): unknown => {
    const makeKnex = commonJsExports(exported);
    if (typeof makeKnex !== 'function') return exported;
    return makeKnexWrappers.of(
      makeKnex as Method,
      () =>
        function makeKnexWithMigrations(this: unknown): unknown {
          const instance = Reflect.apply(makeKnex, this, arguments) as KnexInstance;
          contain('knex instance', () => created(instance));
          return instance;
        },
    );
  };

  const migratorRuns: ClassMethods = {
    exportName: 'Migrator',
    site: 'knex migrations patch',
    wrappers: () => {
      const refreshAfter = afterSettled('knex migrations run', (self) => runEnded(self as Migrator));
      return Object.fromEntries(RUNS.map((name) => [name, refreshAfter]));
    },
  };

  const disablePatches = enableToolPatches('knex', (onDisable) => [
    new InstrumentationNodeModuleDefinition('knex', KNEX_VERSIONS, undefined, undefined, [
      new InstrumentationNodeModuleFile('knex/lib/knex-builder/make-knex.js', KNEX_VERSIONS, withMakeKnexWatched, keep),
      new InstrumentationNodeModuleFile('knex/lib/migrations/migrate/Migrator.js', KNEX_VERSIONS, patchClassMethods(migratorRuns, onDisable), keep),
    ]),
  ]);
  return () => {
    active = false;
    disablePatches();
    sources.stop();
  };
}

function findingOf(instance: KnexInstance, config: KnexMigrationConfig): KnexFinding {
  const client = instance.client;
  return { client, config, aliasObjects: [instance, client, client.pool, client.config.connectionPool] };
}
