import { migrationConnection } from './connection.js';
import { dbTarget } from './targets.js';
import { ToolSources } from './tool-sources.js';
import type { MigrationCounts, MigrationTracker } from './tracker.js';

interface QueryRunner {
  broadcaster: unknown;
  hasTable(table: string): Promise<boolean>;
  query(sql: string): Promise<Array<{ name: string }>>;
  release(): Promise<void>;
}

interface Driver {
  options: { type?: string; host?: unknown; port?: unknown; database?: unknown; url?: unknown; schema?: string };
  database?: string;
  connection: object;
  /** pg's Pool, mysql2's pool: what `setDbAlias` may have named. */
  master?: unknown;
  pool?: unknown;
  createQueryRunner(mode: string): QueryRunner;
  buildTableName(table: string, schema?: string, database?: string): string;
  escape(name: string): string;
}

/** The parts of a TypeORM `DataSource` a source uses. */
export interface DataSourceLike {
  readonly isInitialized: boolean;
  options: { type?: string; migrationsTableName?: string };
  driver: Driver;
  migrations: ReadonlyArray<{ name?: string; constructor: { name: string } }>;
}

/**
 * The TypeORM sources: one per database, migrations table and set of migrations. Applied = rows
 * of the migrations table, unapplied = `dataSource.migrations` without a row, as the
 * MigrationExecutor tells them apart (by name). The migrations table is never created (`showMigrations`
 * would), and the read is invisible to the app: its query runner gets a broadcaster that tells no
 * subscriber (TypeORM broadcasts every statement as `beforeQuery`/`afterQuery`) and a driver
 * whose DataSource logs nothing, so the app's `logging` never shows our statements. The runner
 * holds one pooled connection for its two or three statements.
 */
export class TypeormSources {
  private readonly sources: ToolSources<DataSourceLike>;

  constructor(tracker: MigrationTracker) {
    this.sources = new ToolSources('typeorm', tracker, (dataSource) => dataSource.isInitialized);
  }

  /** A DataSource initialized, or a run through it ended: its source is added, or re-read. */
  found(dataSource: DataSourceLike, ranMigrations: boolean): void {
    // MongoDB keeps no migrations table; a run on a DataSource never initialized failed at once.
    if (dataSource.options.type === 'mongodb' || !dataSource.isInitialized) return;
    const { driver } = dataSource;
    const target = dbTarget(driver.options, driver.options.type ?? '');
    const key = JSON.stringify([driver.options.type, target, migrationsTable(dataSource), migrationNames(dataSource).sort()]);
    const connection = migrationConnection(target, [dataSource, driver.master, driver.pool]);
    if (!this.sources.add(key, connection, dataSource, readTypeormSource) && ranMigrations) this.sources.refresh(key);
  }

  stop(): void {
    this.sources.stop();
  }
}

async function readTypeormSource(dataSource: DataSourceLike): Promise<MigrationCounts> {
  const table = migrationsTable(dataSource);
  const runner = quietRunner(dataSource.driver);
  let executed: Array<{ name: string }>;
  try {
    const escaped = table
      .split('.')
      .map((part) => dataSource.driver.escape(part))
      .join('.');
    executed = (await runner.hasTable(table)) ? await runner.query(`SELECT ${dataSource.driver.escape('name')} FROM ${escaped}`) : [];
  } finally {
    await runner.release();
  }
  const done = new Set(executed.map((row) => row.name));
  return { applied: executed.length, unapplied: migrationNames(dataSource).filter((name) => !done.has(name)).length };
}

/** The table MigrationExecutor uses: `migrationsTableName` (default `migrations`) in the driver's schema and database. */
function migrationsTable({ options, driver }: DataSourceLike): string {
  return driver.buildTableName(options.migrationsTableName ?? 'migrations', driver.options.schema, driver.database);
}

/** Each migration's name as the MigrationExecutor takes it. */
function migrationNames(dataSource: DataSourceLike): string[] {
  return dataSource.migrations.map((migration) => migration.name ?? migration.constructor.name);
}

const SILENT_LOGGER = { logQuery() {}, logQueryError() {}, logQuerySlow() {}, logSchemaBuild() {}, logMigration() {}, log() {} };
const SILENT_BROADCASTER = { broadcast: async () => {}, broadcastAfterQueryEvent: () => {} };

/**
 * A query runner of the app's driver (its pool, its dialect) that neither logs nor broadcasts:
 * runners log through `driver.connection.logger`, so this one is made for a driver whose
 * `connection` is the DataSource with a silent logger; everything else is the app's own.
 */
function quietRunner(driver: Driver): QueryRunner {
  const connection = Object.create(driver.connection, { logger: { value: SILENT_LOGGER } }) as object;
  const quiet = Object.create(driver, { connection: { value: connection } }) as Driver;
  const runner = driver.createQueryRunner.call(quiet, 'master');
  runner.broadcaster = SILENT_BROADCASTER;
  return runner;
}
