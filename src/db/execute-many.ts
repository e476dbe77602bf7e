import { isMysqlConnection, isMysqlPool, isPgClient, isPgPool, isSqliteDatabase, unwrapPromiseApi } from './driver-objects.js';
import { protoMethod } from './own-methods.js';
import { DB_STATE } from './runtime.js';
import { Statement } from './statement.js';

/** One connection held for the whole batch. */
interface BatchConnection {
  /** The driver's connection object, as the hooks track it. */
  readonly handle: object;
  run(sql: string, params: readonly unknown[]): Promise<unknown>;
  release(): void;
}

/**
 * Django's `cursor.executemany(sql, paramSets)` for pg, mysql2 and better-sqlite3 (metrics.md section 4): runs
 * `sql` once per parameter set, in order, on one connection (a pool lends one for the batch), and
 * resolves to the per-set results. It adds `paramSets.length` to both `execute_total` and
 * `execute_many_total` and observes one duration; the first failure stops the batch, counts one
 * error and rejects with the driver's error unchanged. Not wrapped in a transaction.
 */
export async function executeMany(conn: object, sql: string, paramSets: readonly (readonly unknown[])[]): Promise<unknown[]> {
  if (!Array.isArray(paramSets)) throw new TypeError('executeMany: paramSets must be an array of parameter arrays');
  if (paramSets.length === 0) return [];
  const batch = await acquire(conn);
  try {
    // The statements bypass the connection's own instrumented `query`: the batch counts as a whole.
    const tracked = DB_STATE.connections.get(batch.handle);
    const statement = tracked === undefined ? undefined : Statement.start(tracked, paramSets.length, true);
    const results: unknown[] = [];
    try {
      for (const params of paramSets) results.push(await batch.run(sql, params));
    } catch (err) {
      statement?.failed(err);
      throw err;
    }
    statement?.succeeded();
    return results;
  } finally {
    batch.release();
  }
}

async function acquire(conn: object): Promise<BatchConnection> {
  const target = unwrapPromiseApi(conn);
  if (isPgPool(target)) {
    const client = await target.connect();
    return { handle: client, run: pgRunner(client), release: () => client.release() };
  }
  if (isPgClient(target)) return { handle: target, run: pgRunner(target), release: () => {} };
  if (isMysqlPool(target)) {
    const connection = await new Promise<{ release(): void }>((resolve, reject) =>
      target.getConnection((err, c) => (err ? reject(err) : resolve(c))),
    );
    return { handle: connection, run: mysqlRunner(connection), release: () => connection.release() };
  }
  if (isMysqlConnection(target)) return { handle: target, run: mysqlRunner(target), release: () => {} };
  if (isSqliteDatabase(target)) return { handle: target, run: sqliteRunner(target), release: () => {} };
  throw new TypeError('executeMany: expected a pg Pool or Client, a mysql2 Pool or Connection (callback or promise API), or a better-sqlite3 Database');
}

function pgRunner(client: object): BatchConnection['run'] {
  const query = protoMethod(client, 'query');
  return (sql, params) => query.call(client, sql, params) as Promise<unknown>;
}

function mysqlRunner(connection: object): BatchConnection['run'] {
  const query = protoMethod(connection, 'query');
  return (sql, params) =>
    new Promise((resolve, reject) => {
      query.call(connection, sql, params, (err: unknown, rows: unknown) => (err ? reject(err) : resolve(rows)));
    });
}

/** better-sqlite3: the driver's own `prepare` (not the instrumented one), each set through `run`. */
function sqliteRunner(db: object): BatchConnection['run'] {
  const prepare = protoMethod(db, 'prepare');
  return async (sql, params) => (prepare.call(db, sql) as { run(...args: unknown[]): unknown }).run(...params);
}
