import { describe, expect, test } from 'vitest';
import { mysqlErrorType, pgErrorType } from '../../src/db/error-types.js';
import { SQLSTATE_CLASS_NAMES } from '../../src/db/sqlstate-names.js';

/** A pg server error as pg-protocol builds it: `severity` and a SQLSTATE `code`. */
const serverError = (code: string) => Object.assign(new Error('server said no'), { severity: 'ERROR', code });

describe('pg: server errors by SQLSTATE class (metrics.md section 4, as psycopg2 maps them)', () => {
  test.each([
    ...['08', '26', '27', '28', '34', '40', '53', '54', '55', '57', '58', 'HV'].map((c) => [c, 'OperationalError']),
    ['0A', 'NotSupportedError'],
    ...['20', '21', '3D', '3F', '42', '44'].map((c) => [c, 'ProgrammingError']),
    ['22', 'DataError'],
    ['23', 'IntegrityError'],
    ...['24', '25', '2B', '2D', '2F', '38', '39', '3B', 'F0', 'P0', 'XX'].map((c) => [c, 'InternalError']),
  ])('class %s -> %s', (sqlClass, type) => {
    expect(pgErrorType(serverError(`${sqlClass}000`))).toBe(type);
  });

  test.each([
    ['40P01', 'OperationalError'], // deadlock
    ['40001', 'OperationalError'], // serialization
    ['57014', 'OperationalError'], // query canceled
    ['25P02', 'InternalError'], // in failed transaction
    ['23505', 'IntegrityError'],
    ['42P01', 'ProgrammingError'],
  ])('the named examples: %s -> %s', (code, type) => {
    expect(pgErrorType(serverError(code))).toBe(type);
  });

  test('any other class, or a server error without a usable code, is DatabaseError', () => {
    expect(pgErrorType(serverError('99999'))).toBe('DatabaseError');
    expect(pgErrorType(serverError('01000'))).toBe('DatabaseError');
    expect(pgErrorType({ severity: 'FATAL' })).toBe('DatabaseError');
  });
});

describe('pg: PROMETHEUS_DB_ERROR_TYPE=detailed gives psycopg class names for server errors', () => {
  test.each([
    ['23505', 'UniqueViolation'],
    ['40P01', 'DeadlockDetected'],
    ['42P01', 'UndefinedTable'],
    ['57014', 'QueryCanceled'],
    ['42601', 'SyntaxError'],
    ['25P02', 'InFailedSqlTransaction'],
    ['38002', 'ModifyingSqlDataNotPermittedExt'],
    ['39004', 'NullValueNotAllowedExt'],
    ['XX000', 'InternalError_'],
  ])('%s -> %s', (code, type) => {
    expect(pgErrorType(serverError(code), true)).toBe(type);
  });

  test('a SQLSTATE psycopg has no class for falls back to the PEP-249 class; client errors keep theirs', () => {
    expect(pgErrorType(serverError('23P99'), true)).toBe('IntegrityError');
    expect(pgErrorType(serverError('99999'), true)).toBe('DatabaseError');
    expect(pgErrorType(new Error('Connection terminated unexpectedly'), true)).toBe('OperationalError');
    expect(pgErrorType(new TypeError('Client was passed a null or undefined query'), true)).toBe('InterfaceError');
  });

  test('every generated name is the PascalCase of a PostgreSQL condition name, unique, for classes 02 and up', () => {
    const names = [...SQLSTATE_CLASS_NAMES.values()];
    expect(new Set(names).size).toBe(names.length);
    for (const [code, name] of SQLSTATE_CLASS_NAMES) {
      expect(code).toMatch(/^[0-9A-Z]{5}$/);
      expect(code.startsWith('00') || code.startsWith('01')).toBe(false);
      expect(name).toMatch(/^[A-Z][A-Za-z]*_?$/);
    }
  });
});

describe('pg: errors without a SQLSTATE (told apart by severity, not code length)', () => {
  test.each([
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    [Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })], // five characters, yet no SQLSTATE
    [Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' })],
    [new Error('Connection terminated unexpectedly')],
    [new Error('Connection terminated')],
    [new Error('Query read timeout')],
  ])('network, timeout or terminated connection -> OperationalError: %s', (err) => {
    expect(pgErrorType(err)).toBe('OperationalError');
  });

  test.each([
    [new Error('Client was closed and is not queryable')],
    [new TypeError('Client was passed a null or undefined query')],
    [new Error('Prepared statements must be unique')],
    ['a string'],
    [undefined],
  ])('other client-side errors -> InterfaceError: %s', (err) => {
    expect(pgErrorType(err)).toBe('InterfaceError');
  });
});

/** A mysql2 server error: a positive `errno` and its `ER_*` code. */
const mysqlError = (errno: number) => Object.assign(new Error('server said no'), { errno, code: 'ER_SOMETHING', sqlState: 'HY000' });

describe('mysql2: server errors by errno (mysqlclient plus Django conversions)', () => {
  test.each([
    ...[1062, 1169, 1215, 1216, 1217, 1451, 1452, 1364, 1048, 1690, 3819, 4025].map((n) => [n, 'IntegrityError']),
    ...[1064, 1149, 1146, 1007, 1102, 1103, 1110, 1111, 1112, 1113, 1179, 2014].map((n) => [n, 'ProgrammingError']),
    ...[1171, 1230, 1263, 1264, 1265, 1406, 1441].map((n) => [n, 'DataError']),
    ...[1196, 1235, 1286, 1289].map((n) => [n, 'NotSupportedError']),
    ...[1054, 1213, 1205, 1045, 1049, 3024, 2006, 2013, 1000, 1109, 1114, 9999].map((n) => [n, 'OperationalError']),
    ...[1, 500, 999].map((n) => [n, 'InternalError']),
  ])('errno %i -> %s', (errno, type) => {
    expect(mysqlErrorType(mysqlError(errno as number))).toBe(type);
  });
});

describe('mysql2: errors without a server errno', () => {
  test.each([
    ['PROTOCOL_CONNECTION_LOST', -1],
    ['PROTOCOL_SEQUENCE_TIMEOUT', undefined],
    ['ECONNREFUSED', -111], // Node's system errors carry a negative errno
    ['ETIMEDOUT', 'ETIMEDOUT'], // mysql2's connect timeout sets a string errno
    ['ECONNRESET', -104],
  ])('network or timeout -> OperationalError: %s', (code, errno) => {
    expect(mysqlErrorType(Object.assign(new Error(code), { code, errno }))).toBe('OperationalError');
  });

  test.each([
    [new Error("Can't add new command when connection is in closed state")],
    [new TypeError('Bind parameters must not contain undefined. To pass SQL NULL specify JS null')],
    [Object.assign(new Error('enqueue after fatal'), { code: 'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR' })],
    [null],
  ])('a closed connection or anything else -> InterfaceError: %s', (err) => {
    expect(mysqlErrorType(err)).toBe('InterfaceError');
  });
});
