import { AsyncLocalStorage } from 'node:async_hooks';
import type { DbTarget } from '../db/aliases.js';
import { migrationConnection } from './connection.js';
import { pgTarget, type PgClientClass } from './targets.js';
import { identityOf, soon, ToolSources } from './tool-sources.js';
import type { MigrationCounts, MigrationTracker } from './tracker.js';

/** A Kysely instance, as far as sources need it: its executor's adapter is shared by every instance derived from it. */
export interface KyselyInstance {
  getExecutor(): { readonly adapter: object };
}

/** The Migrator settings a source depends on (the Migrator keeps them private). */
export interface MigratorProps {
  db: KyselyInstance;
  migrationTableName?: string;
  migrationTableSchema?: string;
}

export interface KyselyMigrator {
  getMigrations(): Promise<ReadonlyArray<{ executedAt?: Date }>>;
}

/** A pg Pool as PostgresDialect's `pool` setting holds it: its options and the Client class it connects with. */
interface PgPool {
  options?: unknown;
  Client?: PgClientClass;
}

/** Kysely's default table. */
const DEFAULT_TABLE = 'kysely_migration';

/**
 * Kysely's sources: one per database and migrations table (and schema). Every Migrator the app
 * constructs is a way to read its source; a read goes through the newest one whose Kysely is not
 * destroyed, with the Migrator's own `getMigrations()` (executed or not), which creates no table
 * and takes no lock. The database is known when the app's Kysely was built on a PostgresDialect
 * with a pg Pool: then the pool's host/port/database and a `setDbAlias` on the pool name the
 * connection; otherwise it is `default` and the source is that Kysely's alone.
 */
export class KyselySources {
  private readonly sources: ToolSources<KyselyMigrator>;
  /** The pool each PostgresDialect was given. */
  private readonly dialectPools = new WeakMap<object, PgPool>();
  /** The pool behind each Kysely's adapter (shared by its `withPlugin`, `withSchema`, transactions...). */
  private readonly adapterPools = new WeakMap<object, PgPool>();
  private readonly destroyed = new WeakSet<object>();
  private readonly migrators = new WeakMap<KyselyMigrator, { key: string; adapter: object }>();

  constructor(tracker: MigrationTracker) {
    this.sources = new ToolSources('kysely', tracker, (migrator) => {
      const adapter = this.migrators.get(migrator)?.adapter;
      return adapter !== undefined && !this.destroyed.has(adapter);
    });
  }

  dialectCreated(dialect: object, config: { pool?: unknown } | undefined): void {
    const pool = config?.pool;
    if (typeof pool === 'object' && pool !== null) this.dialectPools.set(dialect, pool);
  }

  kyselyCreated(db: KyselyInstance, config: { dialect?: unknown } | undefined): void {
    const dialect = config?.dialect;
    const pool = typeof dialect === 'object' && dialect !== null ? this.dialectPools.get(dialect) : undefined;
    if (pool !== undefined) this.adapterPools.set(db.getExecutor().adapter, pool);
  }

  kyselyDestroyed(db: KyselyInstance): void {
    this.destroyed.add(db.getExecutor().adapter);
  }

  /** A new Migrator: its source is added after the app's synchronous setup (a `setDbAlias` right after is seen). */
  migratorCreated(migrator: KyselyMigrator, props: MigratorProps): void {
    const adapter = props.db.getExecutor().adapter;
    const table = props.migrationTableName ?? DEFAULT_TABLE;
    const schema = props.migrationTableSchema ?? null;
    soon('kysely migrations source', () => {
      const pool = this.adapterPools.get(adapter);
      const target = targetOf(pool);
      const key = JSON.stringify([target ?? identityOf(adapter), schema, table]);
      this.migrators.set(migrator, { key, adapter });
      this.sources.add(key, migrationConnection(target, [pool, props.db]), migrator, readCounts);
    });
  }

  /** A migration run through `migrator` ended: its source is read again. */
  runEnded(migrator: KyselyMigrator): void {
    const found = this.migrators.get(migrator);
    if (found !== undefined) this.sources.refresh(found.key);
  }

  stop(): void {
    this.sources.stop();
  }
}

/** Marks the reads' own async context, so that Kysely's query log can leave their queries out. */
const reads = new AsyncLocalStorage<true>();

/** Whether the caller runs inside a read of the counts. */
export function readingCounts(): boolean {
  return reads.getStore() === true;
}

async function readCounts(migrator: KyselyMigrator): Promise<MigrationCounts> {
  const migrations = await reads.run(true, () => migrator.getMigrations());
  const applied = migrations.filter((m) => m.executedAt !== undefined).length;
  return { applied, unapplied: migrations.length - applied };
}

/** Where the pool connects, resolved by pg itself; `undefined` if it is not a pg Pool. */
function targetOf(pool: PgPool | undefined): DbTarget | undefined {
  return typeof pool?.Client === 'function' ? pgTarget(pool.Client, pool.options) : undefined;
}
