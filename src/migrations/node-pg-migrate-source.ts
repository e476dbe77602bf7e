import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { DbTarget } from '../db/aliases.js';
import { migrationConnection } from './connection.js';
import { migrationNames, type MigrationFileOptions } from './node-pg-migrate-files.js';
import { pgTarget, type PgClient, type PgClientClass } from './targets.js';
import { READ_LIMIT_MS, type MigrationCounts, type MigrationSource } from './tracker.js';

/** The `runner()` options a source depends on. */
export interface RunnerOptions extends MigrationFileOptions {
  databaseUrl?: string | Record<string, unknown>;
  dbClient?: PgClient & { user?: string; password?: unknown; ssl?: unknown };
  migrationsTable?: string;
  migrationsSchema?: string;
  schema?: string | string[];
}

/** The node-pg-migrate the app uses: its `migration` module (file listing) and its `pg`. */
interface Installation {
  readonly migrationModule: string;
  readonly Client: PgClientClass;
}

/** The CLI's default table, which `runner()` needs to be told. */
const DEFAULT_TABLE = 'pgmigrations';

/**
 * The source a `runner()` call works on: its database, migrations table and folder. It is read
 * on its own short connection (never the app's `dbClient`, which may be in a transaction or
 * closed): applied = rows of the table, unapplied = migration files not in it. A missing table
 * is 0 applied: reading never creates it.
 */
export function nodePgMigrateSource(options: RunnerOptions): MigrationSource | undefined {
  const { dbClient, databaseUrl } = options;
  if (dbClient === undefined && databaseUrl === undefined) return undefined; // runner() refuses it
  const Client = dbClient === undefined ? installation().Client : (dbClient.constructor as PgClientClass);
  const config = dbClient === undefined ? withTimeout(databaseUrl) : { host: dbClient.host, port: dbClient.port, database: dbClient.database, user: dbClient.user, password: dbClient.password, ssl: dbClient.ssl, connectionTimeoutMillis: READ_LIMIT_MS };
  const target: DbTarget = dbClient === undefined ? pgTarget(Client, config) : { host: dbClient.host, port: dbClient.port, database: dbClient.database };
  const schema = options.migrationsSchema ?? schemasOf(options.schema)[0] ?? 'public';
  const table = options.migrationsTable ?? DEFAULT_TABLE;
  // Copied now: the options object is the app's, and a relative folder is relative to today's cwd.
  const files: MigrationFileOptions = {
    dir: options.useGlob === true || typeof options.dir !== 'string' ? options.dir : resolve(options.dir),
    ignorePattern: options.ignorePattern,
    useGlob: options.useGlob,
    migrationLoaderStrategies: options.migrationLoaderStrategies,
  };
  return {
    key: JSON.stringify(['node-pg-migrate', target, schema, table, files.dir, files.ignorePattern ?? null, files.useGlob === true]),
    tool: 'node-pg-migrate',
    connection: migrationConnection(target, [dbClient]),
    read: () => readCounts(new Client(config), schema, table, files),
  };
}

async function readCounts(client: PgClient, schema: string, table: string, files: MigrationFileOptions): Promise<MigrationCounts> {
  try {
    await client.connect();
    const { rows } = await client.query('SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', [schema, table]);
    const applied = rows[0]?.n === 0 ? [] : (await client.query(`SELECT name FROM ${quoted(schema)}.${quoted(table)}`)).rows.map((row) => String(row.name));
    const names = await migrationNames(installation().migrationModule, files);
    const done = new Set(applied);
    return { applied: applied.length, unapplied: [...names].filter((name) => !done.has(name)).length };
  } finally {
    await client.end().catch(() => {});
  }
}

/** The app's connection settings for a client of our own, which gives up within the read limit. */
function withTimeout(databaseUrl: RunnerOptions['databaseUrl']): Record<string, unknown> {
  const settings = typeof databaseUrl === 'string' ? { connectionString: databaseUrl } : databaseUrl;
  return { connectionTimeoutMillis: READ_LIMIT_MS, ...settings };
}

/** node-pg-migrate's rule: the non-empty strings of `schema`, `public` when there is none. */
function schemasOf(schema: RunnerOptions['schema']): string[] {
  return (Array.isArray(schema) ? schema : [schema]).filter((s): s is string => typeof s === 'string' && s.length > 0);
}

function quoted(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

let found: Installation | undefined;

/**
 * node-pg-migrate as the app resolves it (from its entry script, else the working directory),
 * and the `pg` that copy of node-pg-migrate resolves (a peer dependency: the app's own).
 */
function installation(): Installation {
  if (found !== undefined) return found;
  const app = createRequire(process.argv[1] ? resolve(process.argv[1]) : join(process.cwd(), 'index.js'));
  const own = createRequire(app.resolve('node-pg-migrate/package.json'));
  found = { migrationModule: own.resolve('node-pg-migrate/migration'), Client: (own('pg') as { Client: PgClientClass }).Client };
  return found;
}
