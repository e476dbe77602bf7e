import { createRequire } from 'node:module';
import { afterAll, describe, expect, test } from 'vitest';
import { sqliteErrorType } from '../../src/db/sqlite-errors.js';

// The real driver, without the instrumentation: the errors it throws are what the adapter classifies.
const require = createRequire(import.meta.url);

/** The part of better-sqlite3's API used here (the package ships no types). */
interface SqliteDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): { get(...params: unknown[]): unknown };
  function(name: string, fn: () => unknown): unknown;
  close(): unknown;
}
type DatabaseModule = (new (filename: string) => SqliteDatabase) & { SqliteError: new (message: string, code: string) => Error };

const Database = require('better-sqlite3') as DatabaseModule;
const { SqliteError } = Database;

describe('SQLite result codes as Python sqlite3 maps them (primary code; extended codes by their primary)', () => {
  test.each([
    ...['ERROR', 'PERM', 'ABORT', 'BUSY', 'LOCKED', 'READONLY', 'INTERRUPT', 'IOERR', 'FULL', 'CANTOPEN', 'PROTOCOL', 'EMPTY', 'SCHEMA'].map((c) => [c, 'OperationalError']),
    ['CONSTRAINT', 'IntegrityError'],
    ['MISMATCH', 'IntegrityError'],
    ['TOOBIG', 'DataError'],
    ['INTERNAL', 'InternalError'],
    ['NOTFOUND', 'InternalError'],
    ['MISUSE', 'InterfaceError'],
    ['RANGE', 'InterfaceError'],
    ['CORRUPT', 'DatabaseError'],
    ['NOMEM', 'DatabaseError'],
    ['NOTADB', 'DatabaseError'],
    ['CONSTRAINT_UNIQUE', 'IntegrityError'],
    ['CONSTRAINT_FOREIGNKEY', 'IntegrityError'],
    ['IOERR_SHORT_READ', 'OperationalError'],
    ['BUSY_SNAPSHOT', 'OperationalError'],
    ['CANTOPEN_ISDIR', 'OperationalError'],
  ])('SQLITE_%s -> %s', (code, type) => {
    expect(sqliteErrorType(new SqliteError('sqlite said no', `SQLITE_${code}`))).toBe(type);
  });

  test('a code that is not SQLite\'s, or no error object at all, is not read as one', () => {
    expect(sqliteErrorType(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('OperationalError');
    expect(sqliteErrorType(Object.assign(new TypeError('x'), { code: 'ERR_INVALID_ARG_TYPE' }))).toBe('ProgrammingError');
    expect(sqliteErrorType('SQLITE_CONSTRAINT')).toBe('OperationalError');
    expect(sqliteErrorType(undefined)).toBe('OperationalError');
  });
});

describe('what better-sqlite3 12 really throws', () => {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE CHECK (length(name) < 4))');
  db.function('boom', () => {
    throw new SyntaxError('from the app');
  });
  afterAll(() => db.close());

  /** The error `run` throws, classified. */
  function typeOf(run: () => unknown): string {
    try {
      run();
    } catch (err) {
      return `${(err as { code?: string }).code ?? (err as Error).name} ${sqliteErrorType(err)}`;
    }
    throw new Error('expected a throw');
  }

  test.each<[string, () => unknown, string]>([
    ['unique', () => db.exec("INSERT INTO t VALUES (1, 'a'), (2, 'a')"), 'SQLITE_CONSTRAINT_UNIQUE IntegrityError'],
    ['check', () => db.exec("INSERT INTO t VALUES (3, 'abcd')"), 'SQLITE_CONSTRAINT_CHECK IntegrityError'],
    ['datatype mismatch', () => db.exec("INSERT INTO t VALUES ('x', 'b')"), 'SQLITE_MISMATCH IntegrityError'],
    ['syntax', () => db.prepare('SELEC 1'), 'SQLITE_ERROR OperationalError'],
    ['unknown table', () => db.prepare('SELECT * FROM nowhere'), 'SQLITE_ERROR OperationalError'],
    ['too few bindings', () => db.prepare('SELECT ?').get(), 'RangeError ProgrammingError'],
    ['two statements to prepare', () => db.prepare('SELECT 1; SELECT 2'), 'RangeError ProgrammingError'],
    ['get on a statement without rows', () => db.prepare('DELETE FROM t').get(), 'TypeError ProgrammingError'],
    ['an app function throwing inside SQLite', () => db.prepare('SELECT boom()').get(), 'SyntaxError OperationalError'],
  ])('%s', (_name, run, expected) => {
    expect(typeOf(run)).toBe(expected);
  });

  test('a closed database: ProgrammingError, as Python raises for it', () => {
    const closed = new Database(':memory:');
    closed.close();
    expect(typeOf(() => closed.exec('SELECT 1'))).toBe('TypeError ProgrammingError');
  });
});
