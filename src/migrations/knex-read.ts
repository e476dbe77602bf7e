import type { MigrationCounts } from './tracker.js';

/**
 * Reading a knex source without side effects the app could see. `migrate.list()` is not used:
 * measured on knex 3.3, it creates the migrations table and its lock table when they are missing
 * and inserts the lock row (8 statements on a fresh database), and every statement it runs is
 * emitted to the app's `query` listeners and knex's debug log. Here: the statements are compiled
 * with knex's own builders (so every dialect gets its own SQL) and run straight on one pooled
 * connection with the dialect's `_query`, which emits nothing; the connection is held for those
 * two short statements only, and a pool too busy to lend one in time is given up on (the pending
 * acquire is aborted), so the app never waits behind a read.
 */

/** knex's query-builder output: what `Client#_query` runs and `processResponse` reads back. */
interface Compiled {
  sql: string;
  bindings?: unknown[];
  method?: string;
  output?: unknown;
}

interface Builder {
  withSchema(schema: string): Builder;
  from(table: string): Builder;
  select(column: string): Builder;
  hasTable(table: string): Builder;
  toSQL(): Compiled | Compiled[];
}

/** A pool as knex uses it: tarn's, or a wrapped external one (without `abort`). */
interface KnexPool {
  acquire(): { promise: Promise<unknown>; abort?: () => void };
  release(connection: unknown): unknown;
}

/** The parts of a knex `Client` a read uses. */
export interface KnexClient {
  config: Record<string, unknown>;
  pool?: KnexPool;
  queryBuilder(): Builder;
  schemaBuilder(): Builder;
  positionBindings(sql: string): string;
  prepBindings(bindings: unknown[] | undefined): unknown[];
  _query(connection: unknown, query: Compiled): Promise<Compiled>;
  processResponse(query: Compiled, runner: unknown): unknown;
}

/** The merged `migrations` settings of a knex Migrator (knex's defaults applied). */
export interface KnexMigrationConfig {
  tableName: string;
  schemaName?: string | null;
  loadExtensions?: readonly string[];
  migrationSource: {
    getMigrations(loadExtensions?: readonly string[]): Promise<unknown[]>;
    getMigrationName(migration: unknown): string;
    /** FsMigrations' configured directories. */
    migrationsPaths?: unknown;
  };
}

/** Half the tracker's limit: a read that cannot get a connection gives up well before it is abandoned. */
const ACQUIRE_LIMIT_MS = 5_000;

/** Applied = rows of the migrations table, unapplied = migrations not in it: `migrate.list()`'s completed and pending. */
export async function readKnexSource(client: KnexClient, config: KnexMigrationConfig): Promise<MigrationCounts> {
  const [all, completed] = await Promise.all([migrationNames(config), completedNames(client, config)]);
  const done = new Set(completed);
  return { applied: completed.length, unapplied: all.filter((name) => !done.has(name)).length };
}

/** Whether the migrations table exists (a default-configured instance is a source only then). */
export function hasMigrationsTable(client: KnexClient, config: KnexMigrationConfig): Promise<boolean> {
  return withConnection(client, (connection) => tableExists(client, connection, config));
}

async function migrationNames(config: KnexMigrationConfig): Promise<string[]> {
  const { migrationSource, loadExtensions } = config;
  const migrations = await migrationSource.getMigrations(loadExtensions);
  return migrations.map((migration) => migrationSource.getMigrationName(migration));
}

function completedNames(client: KnexClient, config: KnexMigrationConfig): Promise<string[]> {
  return withConnection(client, async (connection) => {
    if (!(await tableExists(client, connection, config))) return [];
    const rows = (await run(client, connection, inSchema(quiet(client).queryBuilder(), config).from(config.tableName).select('name').toSQL())) as Array<{ name: string }>;
    return rows.map((row) => row.name);
  });
}

async function tableExists(client: KnexClient, connection: unknown, config: KnexMigrationConfig): Promise<boolean> {
  const statements = inSchema(quiet(client).schemaBuilder(), config).hasTable(config.tableName).toSQL();
  const [statement] = Array.isArray(statements) ? statements : [statements];
  return statement !== undefined && (await run(client, connection, statement)) === true;
}

function inSchema(builder: Builder, config: KnexMigrationConfig): Builder {
  return config.schemaName ? builder.withSchema(config.schemaName) : builder;
}

/**
 * The client as the Migrator compiles its own statements: without the app's `wrapIdentifier`
 * and `postProcessResponse` (the migrations table's names are knex's, not the app's).
 */
function quiet(client: KnexClient): KnexClient {
  const derived = Object.create(client) as KnexClient;
  derived.config = { ...client.config, wrapIdentifier: undefined, postProcessResponse: undefined };
  return derived;
}

async function run(client: KnexClient, connection: unknown, compiled: Compiled | Compiled[]): Promise<unknown> {
  const statement = Array.isArray(compiled) ? compiled[0]! : compiled;
  const query: Compiled = { ...statement, sql: client.positionBindings(statement.sql), bindings: client.prepBindings(statement.bindings) };
  const response = await client._query(connection, query);
  return client.processResponse(response, { client, connection });
}

async function withConnection<T>(client: KnexClient, use: (connection: unknown) => Promise<T>): Promise<T> {
  const pool = client.pool;
  if (pool === undefined) throw new Error('the knex instance was destroyed');
  const connection = await acquire(pool);
  try {
    return await use(connection);
  } finally {
    pool.release(connection);
  }
}

function acquire(pool: KnexPool): Promise<unknown> {
  const pending = pool.acquire();
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      pending.abort?.();
      reject(new Error(`the app's knex pool lent no connection within ${ACQUIRE_LIMIT_MS / 1000} s`));
    }, ACQUIRE_LIMIT_MS);
    timer.unref();
    pending.promise.then(
      (connection) => {
        clearTimeout(timer);
        // An external pool cannot abort: a connection that comes after the read gave up goes straight back.
        if (late) pool.release(connection);
        else resolve(connection);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
