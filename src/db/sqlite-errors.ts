/**
 * better-sqlite3's errors as the PEP-249 class Python's sqlite3 module raises for them, which is
 * what Django's sqlite3 backend lets through (the `type` label of `django_db_errors_total`).
 */

/** Python's sqlite3 mapping of primary result codes (`SQLITE_CONSTRAINT_UNIQUE` counts as `CONSTRAINT`). */
const PRIMARY_CODES: ReadonlyMap<string, string> = new Map([
  ...['ERROR', 'PERM', 'ABORT', 'BUSY', 'LOCKED', 'READONLY', 'INTERRUPT', 'IOERR', 'FULL', 'CANTOPEN', 'PROTOCOL', 'EMPTY', 'SCHEMA'].map(
    (c) => [c, 'OperationalError'] as const,
  ),
  ['CONSTRAINT', 'IntegrityError'],
  ['MISMATCH', 'IntegrityError'],
  ['TOOBIG', 'DataError'],
  ['INTERNAL', 'InternalError'],
  ['NOTFOUND', 'InternalError'],
  ['MISUSE', 'InterfaceError'],
  ['RANGE', 'InterfaceError'],
]);

const PREFIX = 'SQLITE_';

/**
 * A `SqliteError` maps by its primary result code, an unknown code to `DatabaseError`.
 * better-sqlite3's own `TypeError`/`RangeError` (closed database, wrong bindings, more than one
 * statement) are `ProgrammingError`, as Python's sqlite3 raises for the same misuse; any other
 * error came out of an app function SQLite called, which Python reports as `OperationalError`.
 * Python's sqlite3 has no finer classes, so `PROMETHEUS_DB_ERROR_TYPE=detailed` changes nothing here.
 */
export function sqliteErrorType(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && code.startsWith(PREFIX)) {
    return PRIMARY_CODES.get(code.slice(PREFIX.length).split('_', 1)[0]!) ?? 'DatabaseError';
  }
  return err instanceof TypeError || err instanceof RangeError ? 'ProgrammingError' : 'OperationalError';
}
