import { resolve } from 'node:path';
import type { DbTarget } from '../db/aliases.js';
import { migrationConnection } from './connection.js';
import { dbTarget } from './targets.js';
import { identityOf, ToolSources } from './tool-sources.js';
import type { MigrationCounts, MigrationTracker } from './tracker.js';

/** The parts of an `Umzug` a read uses (`executed()`/`pending()` themselves are not called). */
export interface UmzugLike {
  options: { migrations?: unknown };
  storage: unknown;
  migrations(context: unknown): Promise<ReadonlyArray<{ name: string }>>;
  getContext(): Promise<unknown>;
}

interface Storage {
  executed(meta: { context: unknown }): Promise<string[]>;
}

interface SequelizeLike {
  config: { host?: unknown; port?: unknown; database?: unknown };
  getDialect(): string;
  getQueryInterface(): { tableExists(table: unknown, options: object): Promise<boolean> };
}

/** umzug's SequelizeStorage, as its constructor leaves it. */
interface SequelizeStorageLike {
  sequelize: SequelizeLike;
  columnName: string;
  model: { getTableName(): unknown; findAll(options: object): Promise<Array<Record<string, unknown>>> };
}

/** The storage classes umzug exports, to recognise its own storages. */
export interface UmzugStorages {
  SequelizeStorage?: unknown;
  JSONStorage?: unknown;
}

/**
 * The app's statements stay the app's: nothing logged through its Sequelize `logging`, no model
 * hooks, never inside a transaction a CLS namespace carries.
 */
const QUIET = { logging: false, hooks: false, transaction: null };

/**
 * The umzug sources: one per storage (SequelizeStorage: database and table; JSONStorage: file;
 * any other: that storage object) and migration list (glob, or that list). A read counts
 * as `executed()` and `pending()` do (the migrations list, against the storage's executed names)
 * without calling them: each emits `beforeCommand`/`afterCommand` to the app's listeners (and so
 * takes a FileLocker's lock). SequelizeStorage's own `executed()` is not called either: it
 * creates the table when missing and logs through the app's Sequelize logger.
 */
export class UmzugSources {
  private readonly sources: ToolSources<UmzugLike>;
  private readonly keys = new WeakMap<UmzugLike, string>();

  constructor(
    tracker: MigrationTracker,
    private readonly storages: UmzugStorages,
  ) {
    // An Umzug has nothing to close: it reads through whatever its storage uses.
    this.sources = new ToolSources('umzug', tracker, () => true);
  }

  constructed(umzug: UmzugLike): void {
    const storage = umzug.storage;
    const sequelize = this.sequelizeStorage(storage)?.sequelize;
    const target = sequelize === undefined ? undefined : targetOf(sequelize);
    const connection = migrationConnection(target, [umzug, storage, sequelize]);
    const key = JSON.stringify([this.storageKey(storage, target), migrationsKey(umzug.options.migrations)]);
    this.keys.set(umzug, key);
    this.sources.add(key, connection, umzug, (u) => this.read(u));
  }

  /** After `up`/`down` resolved or rejected: re-reads the instance's source. */
  runEnded(umzug: UmzugLike): void {
    const key = this.keys.get(umzug);
    if (key !== undefined) this.sources.refresh(key);
  }

  stop(): void {
    this.sources.stop();
  }

  private async read(umzug: UmzugLike): Promise<MigrationCounts> {
    const context = await umzug.getContext();
    const [migrations, executed] = await Promise.all([umzug.migrations(context), this.executedNames(umzug.storage, context)]);
    const done = new Set(executed);
    const applied = migrations.filter((migration) => done.has(migration.name)).length;
    return { applied, unapplied: migrations.length - applied };
  }

  private async executedNames(storage: unknown, context: unknown): Promise<string[]> {
    const sequelizeStorage = this.sequelizeStorage(storage);
    if (sequelizeStorage === undefined) return (storage as Storage).executed({ context });
    const { sequelize, model, columnName } = sequelizeStorage;
    if (!(await sequelize.getQueryInterface().tableExists(model.getTableName(), QUIET))) return [];
    const rows = await model.findAll({ ...QUIET, attributes: [columnName], raw: true });
    return rows.map((row) => String(row[columnName]));
  }

  /** umzug's SequelizeStorage with its own `executed()`, read here without side effects. */
  private sequelizeStorage(storage: unknown): SequelizeStorageLike | undefined {
    const { SequelizeStorage } = this.storages;
    const own = typeof SequelizeStorage === 'function' && storage instanceof SequelizeStorage;
    return own && (storage as Storage).executed === (SequelizeStorage.prototype as Storage).executed ? (storage as SequelizeStorageLike) : undefined;
  }

  private storageKey(storage: unknown, target: DbTarget | undefined): unknown {
    const sequelizeStorage = this.sequelizeStorage(storage);
    if (sequelizeStorage !== undefined) {
      return ['sequelize', sequelizeStorage.sequelize.getDialect(), target, sequelizeStorage.model.getTableName(), sequelizeStorage.columnName];
    }
    const { JSONStorage } = this.storages;
    if (typeof JSONStorage === 'function' && storage instanceof JSONStorage) return ['json', resolve(String((storage as { path: unknown }).path))];
    return byIdentity(storage);
  }
}

function targetOf(sequelize: SequelizeLike): DbTarget {
  return dbTarget(sequelize.config, sequelize.getDialect());
}

/** A glob (with its options, and the directory a relative one is resolved from), or the list itself. */
function migrationsKey(migrations: unknown): unknown {
  const glob = (migrations as { glob?: unknown } | undefined)?.glob;
  if (glob !== undefined) return ['glob', glob, process.cwd()];
  return byIdentity(migrations);
}

function byIdentity(value: unknown): string {
  return (typeof value === 'object' && value !== null) || typeof value === 'function' ? identityOf(value) : String(value);
}
