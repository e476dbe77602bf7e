/**
 * The migration source of a connected Prisma client: `_prisma_migrations` read through the app's
 * own driver adapter (the pool its client queries through), not through the client, so the app's
 * extensions, middleware and `query` log events never see it; the statements count in the DB
 * families like any other on that pool, as Django's own migration check does.
 */
import { readdir } from 'node:fs/promises';
import { contain } from '../contain.js';
import type { DbTarget } from '../db/aliases.js';
import { defineOwnMethod, protoMethod } from '../db/own-methods.js';
import { migrationConnection } from './connection.js';
import type { MigrationCounts, MigrationHandle, MigrationTracker } from './tracker.js';

/** The parts of `@prisma/adapter-pg`'s connected adapter used here (the driver-adapter interface). */
export interface PgAdapter {
  queryRaw(query: { sql: string; args: unknown[]; argTypes: unknown[] }): Promise<{ rows: unknown[][] }>;
  getConnectionInfo?(): { schemaName?: string };
  underlyingDriver?(): unknown;
  dispose(): Promise<void>;
}

/** A pg `Pool`: its client class resolves its options (connection string included) as pg does. */
interface PgPool {
  options?: object;
  Client?: new (options?: object) => DbTarget;
}

interface Tracked {
  readonly handle: MigrationHandle;
  /** The connected adapters reading it: a read goes through any of them. */
  readonly adapters: Set<PgAdapter>;
}

/** The Prisma sources of one tracker, by key: one per database, schema and migrations folder. */
export class PrismaSources {
  private readonly tracked = new Map<string, Tracked>();

  constructor(private readonly tracker: MigrationTracker) {}

  /**
   * A client connected through `adapter`: once `folder` (its migrations folder, `undefined` if
   * unknown) is found, its source is tracked until the last adapter reading it is disposed (the
   * app's `$disconnect`), so a disconnected client's gauges go.
   */
  connected(adapter: PgAdapter, folder: Promise<string | undefined>): void {
    let release: (() => void) | undefined;
    let disposed = false;
    defineOwnMethod(adapter, 'dispose', function dispose(this: unknown) {
      disposed = true;
      if (release !== undefined) contain('prisma migrations release', release);
      return Reflect.apply(protoMethod(adapter, 'dispose'), this, arguments);
    });
    void folder.then((found) => {
      if (found !== undefined && !disposed) release = contain('prisma migrations source', () => this.track(adapter, found));
    });
  }

  stop(): void {
    for (const { handle } of this.tracked.values()) handle.stop();
    this.tracked.clear();
  }

  /** Adds the adapter to its source (created if new); returns the function that removes it. */
  private track(adapter: PgAdapter, folder: string): () => void {
    const pool = adapter.underlyingDriver?.() as PgPool | undefined;
    const target = targetOf(pool);
    const schema = adapter.getConnectionInfo?.().schemaName;
    const key = `prisma|${target.host}:${target.port}/${target.database}|${schema ?? ''}|${folder}`;
    let source = this.tracked.get(key);
    if (source === undefined) {
      const adapters = new Set<PgAdapter>();
      const connection = migrationConnection(target, [pool]);
      const handle = this.tracker.add({ key, tool: 'prisma', connection, read: () => readCounts(adapters, schema, folder) });
      this.tracked.set(key, (source = { handle, adapters }));
    }
    const tracked = source;
    tracked.adapters.add(adapter);
    return () => {
      tracked.adapters.delete(adapter);
      if (tracked.adapters.size > 0 || this.tracked.get(key) !== tracked) return;
      this.tracked.delete(key);
      tracked.handle.stop();
    };
  }
}

/** Where the pool connects, resolved by pg itself (no connection is made). */
function targetOf(pool: PgPool | undefined): DbTarget {
  if (typeof pool?.Client !== 'function') return {};
  const { host, port, database } = new pool.Client(pool.options);
  return { host, port, database };
}

async function readCounts(adapters: ReadonlySet<PgAdapter>, schema: string | undefined, folder: string): Promise<MigrationCounts> {
  const [adapter] = adapters;
  if (adapter === undefined) throw new Error('the Prisma client is disconnected');
  const [applied, folders] = await Promise.all([appliedMigrations(adapter, schema), migrationFolders(folder)]);
  return { applied: applied.size, unapplied: folders.filter((name) => !applied.has(name)).length };
}

/**
 * Names of the migrations `_prisma_migrations` records as applied: finished and not rolled back.
 * A database without the table has none applied, as Prisma sees it.
 */
async function appliedMigrations(adapter: PgAdapter, schema: string | undefined): Promise<Set<string>> {
  const table = (schema === undefined ? '' : `${identifier(schema)}.`) + '"_prisma_migrations"';
  const query = (sql: string) => adapter.queryRaw({ sql, args: [], argTypes: [] });
  const [present] = (await query(`SELECT to_regclass('${table.replaceAll("'", "''")}') IS NOT NULL`)).rows;
  if (present?.[0] !== true) return new Set();
  const { rows } = await query(`SELECT DISTINCT migration_name FROM ${table} WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`);
  return new Set(rows.map((row) => String(row[0])));
}

/** Each migration is a folder; `migration_lock.toml` and other files are not. No folder: no migrations. */
async function migrationFolders(folder: string): Promise<string[]> {
  try {
    return (await readdir(folder, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

function identifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
