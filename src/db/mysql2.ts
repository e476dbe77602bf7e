import { InstrumentationNodeModuleDefinition, type InstrumentationModuleDefinition } from '@opentelemetry/instrumentation';
import { safe } from '../contain.js';
import { TrackedConnection } from './connection.js';
import { DriverInstrumentation } from './driver-instrumentation.js';
import { mysqlErrorType } from './error-types.js';
import { defineOwnMethod, protoMethod, type AnyMethod } from './own-methods.js';
import { DB_STATE } from './runtime.js';
import { Statement, type Callback } from './statement.js';

/** Tested with mysql2 3.24; relies on `ClientHandshake#start`, `_notifyError` and `authorized`. */
const MYSQL2_VERSIONS = ['>=3 <4'];

interface MysqlConnection {
  config?: { host?: string; port?: number; database?: string };
  /** Set once the handshake succeeded. */
  authorized?: boolean;
  /** A PoolConnection's pool (set after the handshake starts, cleared when it leaves the pool). */
  _pool?: object | null;
}


/**
 * mysql2: every client connection, pooled or not, runs a `ClientHandshake` command that starts in
 * the connection's constructor. Its `start` is where a connection attempt is counted and where
 * the connection gets its own instrumented `query`, `execute` and `_notifyError`.
 */
export class Mysql2MetricsInstrumentation extends DriverInstrumentation {
  constructor() {
    super('mysql2');
  }

  protected init(): InstrumentationModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition('mysql2', MYSQL2_VERSIONS, undefined, undefined, [
        this.prototypeFile('mysql2/lib/commands/client_handshake.js', MYSQL2_VERSIONS, 'start', patchHandshakeStart),
      ]),
    ];
  }
}

function patchHandshakeStart(original: AnyMethod): AnyMethod {
  return function start(this: unknown, _packet: unknown, connection: unknown) {
    trackNew(connection);
    return Reflect.apply(original, this, arguments);
  };
}

const trackNew = safe('mysql2 connect', (connection: unknown) => {
  if (DB_STATE.runtime !== undefined && typeof connection === 'object' && connection !== null && !DB_STATE.connections.has(connection)) {
    trackConnection(connection as MysqlConnection);
  }
});

function trackConnection(connection: MysqlConnection): void {
  const { host, port, database } = connection.config ?? {};
  const tracked = new TrackedConnection('mysql', connection, { host, port, database }, mysqlErrorType);
  defineOwnMethod(connection, 'query', instrumentedCall(connection, tracked, 'query'));
  defineOwnMethod(connection, 'execute', instrumentedCall(connection, tracked, 'execute'));
  const attempt: Attempt = { connection, tracked, counted: false, failed: false };
  // The attempt is counted once the constructors returned, so that a PoolConnection's pool is
  // known and a `setDbAlias(connection)` right after `createConnection()` applies.
  queueMicrotask(() => countAttempt(attempt));
  defineOwnMethod(connection, '_notifyError', function (this: unknown) {
    noteError(attempt);
    return Reflect.apply(protoMethod(connection, '_notifyError'), this, arguments);
  });
}

/** One connection's handshake: counted once, failed at most once. */
interface Attempt {
  readonly connection: MysqlConnection;
  readonly tracked: TrackedConnection;
  counted: boolean;
  failed: boolean;
}

const countAttempt = safe('mysql2 connect count', (attempt: Attempt) => {
  if (attempt.counted) return;
  attempt.counted = true;
  attempt.tracked.pool = attempt.connection._pool ?? undefined;
  DB_STATE.runtime?.recorder.connectionAttempted(attempt.tracked.labelValues());
});

/**
 * Every failure before authorization (refused, timeout, access denied, server gone) reaches the
 * connection's `_notifyError`; errors after the handshake are statement or connection-loss errors.
 */
const noteError = safe('mysql2 connect failure', (attempt: Attempt) => {
  if (attempt.failed || attempt.connection.authorized === true) return;
  attempt.failed = true;
  countAttempt(attempt);
  DB_STATE.runtime?.recorder.connectionFailed(attempt.tracked.labelValues());
});

function instrumentedCall(connection: object, tracked: TrackedConnection, method: 'query' | 'execute'): AnyMethod {
  return function (this: unknown, ...args: unknown[]) {
    const next = protoMethod(connection, method);
    const statement = Statement.start(tracked);
    return statement === undefined ? Reflect.apply(next, this, args) : runCommand(statement, next, this, args);
  };
}

/** A mysql2 command object (pool.query hands the connection a ready `Query`). */
interface Command {
  execute: unknown;
  onResult?: unknown;
  emit: AnyMethod;
}

function isCommand(value: unknown): value is Command {
  return typeof value === 'object' && value !== null && typeof (value as Command).execute === 'function';
}

/**
 * `query`/`execute` as `(sql|options, values?, callback?)` or `(command)`. The callback is the one
 * mysql2 picks (a function `values` first); without one the command is an event emitter.
 */
function runCommand(statement: Statement, next: AnyMethod, self: unknown, args: unknown[]): unknown {
  const { prepared, result } = statement.run(next, self, args, prepareCommand);
  if (prepared?.emitter) watchResult(result, statement);
  return result;
}

/** An event-emitter call: the command it returned settles the statement. */
const watchResult = safe('mysql2 query', (result: unknown, statement: Statement) => {
  if (isCommand(result)) watchEmitter(result, statement);
  else statement.succeeded();
});

interface PreparedCall {
  args: unknown[];
  /** No callback: the returned command reports through events. */
  emitter: boolean;
}

const prepareCommand = safe('mysql2 query', (statement: Statement, args: unknown[]): PreparedCall => {
  const [sql, values, callback] = args;
  if (isCommand(sql)) {
    if (typeof sql.onResult === 'function') sql.onResult = statement.callback(sql.onResult as Callback);
    else watchEmitter(sql, statement);
    return { args, emitter: false };
  }
  if (typeof values === 'function') return { args: [sql, statement.callback(values as Callback), ...args.slice(2)], emitter: false };
  if (typeof callback === 'function') return { args: [sql, values, statement.callback(callback as Callback), ...args.slice(3)], emitter: false };
  return { args, emitter: true };
});

/** An event-emitter command ends with `error` (then `end`) or `end`. */
function watchEmitter(command: Command, statement: Statement): void {
  const emit = command.emit;
  defineOwnMethod(command, 'emit', function (this: unknown, event: unknown, arg: unknown) {
    if (event === 'error') statement.failed(arg);
    else if (event === 'end') statement.succeeded();
    return Reflect.apply(emit, this, arguments);
  });
}
