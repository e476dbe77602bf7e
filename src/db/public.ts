/** The public db API, re-exported by src/index.ts (metrics.md sections 4 and 10). */
import { logLine } from '../log.js';
import { isValidAlias } from './aliases.js';
import { unwrapPromiseApi } from './driver-objects.js';
import { DB_STATE } from './runtime.js';

export { executeMany } from './execute-many.js';

/**
 * Names the `alias` label of a pg Pool or Client, a mysql2 Pool or Connection (callback or
 * promise API), or a better-sqlite3 Database, overriding PROMETHEUS_DB_ALIASES. A pool's alias covers every connection it
 * creates; a connection's own alias wins over its pool's. Allowed: 1-64 of `A-Z a-z 0-9 _ . -`
 * (never a DSN); anything else is refused with one log line. Returns its first argument.
 */
export function setDbAlias<T extends object>(poolOrClient: T, alias: string): T {
  if (typeof poolOrClient !== 'object' || poolOrClient === null) {
    logLine('setDbAlias: expected a pool or connection object; ignored');
    return poolOrClient;
  }
  if (!isValidAlias(alias)) {
    // The value is not echoed: a mistaken DSN would put a password in the log.
    logLine('setDbAlias: invalid alias (expected 1-64 characters of A-Z a-z 0-9 _ . -); ignored');
    return poolOrClient;
  }
  DB_STATE.overrides.set(poolOrClient, alias);
  const core = unwrapPromiseApi(poolOrClient);
  if (core !== poolOrClient) DB_STATE.overrides.set(core, alias);
  DB_STATE.generation++;
  return poolOrClient;
}
