/**
 * The migration sources of connected Prisma clients: `_prisma_migrations` read through the app's
 * own driver adapter (the pool its client queries through), not through the client, so the app's
 * extensions, middleware and `query` log events never see it; the statements count in the DB
 * families like any other on that pool, as Django's own migration check does.
 */
import { readdir } from 'node:fs/promises';
import { contain } from '../contain.js';
import { defineOwnMethod, protoMethod } from '../db/own-methods.js';
import { migrationConnection } from './connection.js';
import { dbTarget, type ConnectionSettings } from './targets.js';
import { ToolSources } from './tool-sources.js';
import type { MigrationCounts, MigrationTracker } from './tracker.js';

/** The parts of `@prisma/adapter-pg`'s connected adapter used here (the driver-adapter interface). */
export interface PgAdapter {
  queryRaw(query: { sql: string; args: unknown[]; argTypes: unknown[] }): Promise<{ rows: unknown[][] }>;
  getConnectionInfo?(): { schemaName?: string };
  underlyingDriver?(): unknown;
  dispose(): Promise<void>;
}

/** Adapters their client has disposed (its `$disconnect`): no longer read through. */
const disposed = new WeakSet<PgAdapter>();

/** One source per database, schema and migrations folder, read through its newest connected adapter. */
export class PrismaSources {
  private readonly sources: ToolSources<PgAdapter>;

  constructor(tracker: MigrationTracker) {
    this.sources = new ToolSources('prisma', tracker, (adapter) => !disposed.has(adapter));
  }

  /** An adapter its client just connected: from now on, its disposal is seen. */
  connected(adapter: PgAdapter): void {
    defineOwnMethod(adapter, 'dispose', function dispose(this: unknown) {
      disposed.add(adapter);
      return Reflect.apply(protoMethod(adapter, 'dispose'), this, arguments);
    });
  }

  /** The migrations `folder` of the adapter's client is known: its source is tracked (or gets another reader). */
  found(adapter: PgAdapter, folder: string): void {
    const pool = adapter.underlyingDriver?.() as { options?: ConnectionSettings & { connectionString?: unknown } } | undefined;
    const options = pool?.options ?? {};
    const target = dbTarget({ ...options, url: options.connectionString }, 'postgres');
    const schema = adapter.getConnectionInfo?.().schemaName;
    const key = `${target.host}:${target.port}/${target.database} ${schema ?? ''} ${folder}`;
    this.sources.add(key, migrationConnection(target, [pool]), adapter, (reader) => readCounts(reader, schema, folder));
  }

  stop(): void {
    contain('prisma migrations stop', () => this.sources.stop());
  }
}

async function readCounts(adapter: PgAdapter, schema: string | undefined, folder: string): Promise<MigrationCounts> {
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
