import { SQLSTATE_CLASS_NAMES } from './sqlstate-names.js';

/**
 * The `type` label of `django_db_errors_total`: the PEP-249 exception class Django would see
 * (metrics.md section 4), decided from what the driver's error carries.
 */

/** Socket-level failures: the connection or the network is at fault, not the statement. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE',
  'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN',
]);

/** psycopg2's mapping of SQLSTATE classes (the first two characters) to PEP-249 classes. */
const PG_CLASSES: ReadonlyMap<string, string> = new Map([
  ...['08', '26', '27', '28', '34', '40', '53', '54', '55', '57', '58', 'HV'].map((c) => [c, 'OperationalError'] as const),
  ['0A', 'NotSupportedError'],
  ...['20', '21', '3D', '3F', '42', '44'].map((c) => [c, 'ProgrammingError'] as const),
  ['22', 'DataError'],
  ['23', 'IntegrityError'],
  ...['24', '25', '2B', '2D', '2F', '38', '39', '3B', 'F0', 'P0', 'XX'].map((c) => [c, 'InternalError'] as const),
]);

/** pg's own messages for a lost connection or an expired timer (they carry no `code`). */
const PG_NETWORK_MESSAGE = /^(Connection terminated|Query read timeout|timeout expired)/;

type ErrorFields = { severity?: unknown; code?: unknown; errno?: unknown; message?: unknown };

function fields(err: unknown): ErrorFields {
  return typeof err === 'object' && err !== null ? (err as ErrorFields) : {};
}

/**
 * pg: server errors (they have a `severity`, whatever their `code`) map by SQLSTATE class, or with
 * `detailed` to psycopg's class for the exact SQLSTATE; client-side errors are network trouble
 * (`OperationalError`) or misuse of the client (`InterfaceError`).
 */
export function pgErrorType(err: unknown, detailed = false): string {
  const { severity, code, message } = fields(err);
  if (typeof severity === 'string') {
    const sqlstate = typeof code === 'string' ? code : '';
    const pep249 = PG_CLASSES.get(sqlstate.slice(0, 2)) ?? 'DatabaseError';
    return detailed ? (SQLSTATE_CLASS_NAMES.get(sqlstate) ?? pep249) : pep249;
  }
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return 'OperationalError';
  if (typeof message === 'string' && PG_NETWORK_MESSAGE.test(message)) return 'OperationalError';
  return 'InterfaceError';
}

const MYSQL_ERRNOS: ReadonlyMap<number, string> = new Map([
  ...[1062, 1169, 1215, 1216, 1217, 1451, 1452, 1364, 1048, 1690, 3819, 4025].map((n) => [n, 'IntegrityError'] as const),
  ...[1064, 1149, 1146, 1007, 1102, 1103, 1110, 1111, 1112, 1113, 1179, 2014].map((n) => [n, 'ProgrammingError'] as const),
  ...[1171, 1230, 1263, 1264, 1265, 1406, 1441].map((n) => [n, 'DataError'] as const),
  ...[1196, 1235, 1286, 1289].map((n) => [n, 'NotSupportedError'] as const),
]);

/** mysql2's codes for a connection lost or a timer expired; they come without a server errno. */
const MYSQL_NETWORK_CODES: ReadonlySet<string> = new Set([...NETWORK_CODES, 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT']);

/**
 * mysql2: server errors carry a positive `errno` and map as mysqlclient plus Django map them.
 * Node's system errors have a negative `errno` and mysql2's timeout a string one: those are network errors.
 */
export function mysqlErrorType(err: unknown): string {
  const { errno, code } = fields(err);
  if (typeof errno === 'number' && Number.isInteger(errno) && errno > 0) {
    return MYSQL_ERRNOS.get(errno) ?? (errno >= 1000 ? 'OperationalError' : 'InternalError');
  }
  return typeof code === 'string' && MYSQL_NETWORK_CODES.has(code) ? 'OperationalError' : 'InterfaceError';
}
