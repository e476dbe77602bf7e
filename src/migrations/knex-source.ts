import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { DbTarget } from '../db/aliases.js';
import { migrationConnection } from './connection.js';
import { hasMigrationsTable, readKnexSource, type KnexClient, type KnexMigrationConfig } from './knex-read.js';
import { dbTarget, type ConnectionSettings } from './targets.js';
import { identityOf, ToolSources } from './tool-sources.js';
import type { MigrationTracker } from './tracker.js';

/** A knex client as a source sees it (the instance's, or a Migrator's copy of it). */
export interface SourceClient extends KnexClient {
  dialect?: string;
  connectionSettings?: unknown;
}

/** What a knex instance, or a Migrator run, says about one source. */
export interface KnexFinding {
  /** The client reads go through: the app's own (its pool is the live one). */
  client: SourceClient;
  /** The merged migrations settings (the instance's, or those a run was given). */
  config: KnexMigrationConfig;
  /** What `setDbAlias` may have named: the instance, its client and pool, an external pool. */
  aliasObjects: unknown[];
}

/**
 * The knex sources: one per database, migrations table and directories. An instance whose
 * migrations directory does not exist is not a source (nothing to count; knex itself would fail
 * to list it), and is skipped without a word: most knex instances never run migrations.
 */
export class KnexSources {
  private readonly sources: ToolSources<SourceClient>;

  constructor(tracker: MigrationTracker) {
    this.sources = new ToolSources('knex', tracker, (client) => client.pool !== undefined);
  }

  /**
   * A new knex instance. Without a `migrations` setting it counts only if knex's default table
   * exists too: libraries built on knex (MikroORM, whose own default folder is also
   * `./migrations`) create instances that are not the app's knex migrations.
   */
  async instanceCreated(finding: KnexFinding, explicitSettings: boolean): Promise<void> {
    if (!(await directoriesExist(finding.config))) return;
    if (!explicitSettings && !(await hasMigrationsTable(finding.client, finding.config).catch(() => false))) return;
    this.add(finding);
  }

  /** A migration run ended (either way): the source it ran on is read again, or found now. */
  async runEnded(finding: KnexFinding): Promise<void> {
    const key = sourceKey(finding);
    if (!this.sources.has(key) && !(await directoriesExist(finding.config))) return;
    if (!this.add(finding, key)) this.sources.refresh(key);
  }

  stop(): void {
    this.sources.stop();
  }

  /** Adds the finding's source (or a way to read it); true if it is new, and so read soon. */
  private add(finding: KnexFinding, key = sourceKey(finding)): boolean {
    const { client, config, aliasObjects } = finding;
    const connection = migrationConnection(targetOf(client), aliasObjects);
    return this.sources.add(key, connection, client, (c) => readKnexSource(c, config));
  }
}

/** tool + database + migrations table + directories (or the custom migration source). */
function sourceKey({ client, config }: KnexFinding): string {
  const table = config.schemaName ? `${config.schemaName}.${config.tableName}` : config.tableName;
  const folders = directoriesOf(config);
  return JSON.stringify([client.dialect, targetOf(client), table, folders ?? identityOf(config.migrationSource)]);
}

/** host/port/database, or an SQLite file as the database. */
function targetOf(client: SourceClient): DbTarget {
  const settings = settingsOf(client);
  if (/sqlite/.test(client.dialect ?? '')) return { database: typeof settings.filename === 'string' ? settings.filename : undefined };
  const url = typeof client.connectionSettings === 'string' ? client.connectionSettings : settings.connectionString;
  return dbTarget({ ...settings, url }, client.dialect ?? '');
}

function settingsOf(client: SourceClient): ConnectionSettings & { filename?: unknown; connectionString?: unknown } {
  const settings = client.connectionSettings;
  return typeof settings === 'object' && settings !== null ? settings : {};
}

/** FsMigrations' directories, resolved as knex resolves them; `undefined` for a custom migration source. */
function directoriesOf(config: KnexMigrationConfig): string[] | undefined {
  const paths = config.migrationSource.migrationsPaths;
  return Array.isArray(paths) ? paths.map((dir) => resolve(process.cwd(), String(dir))) : undefined;
}

async function directoriesExist(config: KnexMigrationConfig): Promise<boolean> {
  const folders = directoriesOf(config);
  if (folders === undefined) return true;
  const found = await Promise.all(folders.map((dir) => stat(dir).then((s) => s.isDirectory(), () => false)));
  return found.every(Boolean);
}
