/**
 * Recognizes the driver objects the public API is given. Structural checks, not `instanceof`: the
 * app's copy of pg or mysql2 is not ours to import, and the API must work even when the driver
 * was loaded before the instrumentation.
 */

/** mysql2's promise API wraps the core objects the hooks see. */
export function unwrapPromiseApi(target: object): object {
  switch (target.constructor?.name) {
    case 'PromisePool':
      return (target as { pool?: object }).pool ?? target;
    case 'PromiseConnection':
    case 'PromisePoolConnection':
      return (target as { connection?: object }).connection ?? target;
    default:
      return target;
  }
}

type Fn = (...args: never[]) => unknown;

function has<K extends string>(target: object, ...names: K[]): target is Record<K, Fn> {
  return names.every((n) => typeof (target as Record<string, unknown>)[n] === 'function');
}

export interface PgPool {
  connect(): Promise<PgPoolClient>;
}
export interface PgPoolClient {
  release(): void;
}
export interface MysqlPool {
  getConnection(cb: (err: unknown, connection: MysqlPoolConnection) => void): void;
}
export interface MysqlPoolConnection {
  release(): void;
}

/** pg-pool: `connect()` hands out clients and it keeps the `totalCount`/`idleCount` getters. */
export function isPgPool(target: object): target is PgPool {
  return has(target, 'connect', 'query') && 'totalCount' in target && 'idleCount' in target;
}

export function isPgClient(target: object): boolean {
  return has(target, 'query', 'connect') && 'connectionParameters' in target;
}

export function isMysqlPool(target: object): target is MysqlPool {
  return has(target, 'getConnection', 'releaseConnection', 'query');
}

export function isMysqlConnection(target: object): boolean {
  return has(target, 'query', 'execute', 'changeUser');
}

/** better-sqlite3's `Database`: synchronous statements and its own transaction helper. */
export function isSqliteDatabase(target: object): boolean {
  return has(target, 'prepare', 'exec', 'pragma', 'transaction');
}
