import { InstrumentationNodeModuleDefinition, type InstrumentationModuleDefinition } from '@opentelemetry/instrumentation';
import { safe } from '../contain.js';
import { TrackedConnection, type Classify } from './connection.js';
import { DriverInstrumentation, type PatchableExports } from './driver-instrumentation.js';
import { pgErrorType } from './error-types.js';
import { defineOwnMethod, protoMethod, type AnyMethod } from './own-methods.js';
import { DB_STATE, type DbRuntime } from './runtime.js';
import { Statement, type Callback } from './statement.js';

/** Tested with pg 8.23 and pg-pool 3.x; `Client#_connect` is the one internal relied on. */
const PG_VERSIONS = ['>=8 <9'];
const PG_POOL_VERSIONS = ['>=2 <4'];

interface PgClient {
  host?: string;
  port?: number;
  database?: string;
}


/**
 * pg: `Client#_connect` (behind both `connect()` forms) counts each connection attempt and its
 * failure and gives the client its own instrumented `query`; pg-pool's `newClient` tells which
 * pool a client belongs to, for `setDbAlias(pool)`.
 */
export class PgMetricsInstrumentation extends DriverInstrumentation {
  constructor() {
    super('pg');
  }

  protected init(): InstrumentationModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition('pg', PG_VERSIONS, undefined, undefined, [
        this.prototypeFile('pg/lib/client.js', PG_VERSIONS, '_connect', patchConnect),
      ]),
      new InstrumentationNodeModuleDefinition(
        'pg-pool',
        PG_POOL_VERSIONS,
        (exported: PatchableExports) => {
          this.patchPrototype(exported, 'newClient', patchNewClient);
          return exported;
        },
        (exported?: PatchableExports) => this.unpatchPrototype(exported, 'newClient'),
      ),
    ];
  }
}

/** The pool whose `newClient` is running: pg-pool constructs and connects the client synchronously in it. */
let creatingPool: object | undefined;

function patchNewClient(original: AnyMethod): AnyMethod {
  return function newClient(this: unknown) {
    const outer = creatingPool;
    creatingPool = this as object;
    try {
      return Reflect.apply(original, this, arguments);
    } finally {
      creatingPool = outer;
    }
  };
}

function patchConnect(original: AnyMethod): AnyMethod {
  return function _connect(this: unknown, callback: unknown) {
    return original.call(this, connectAttempt(this as PgClient, callback) ?? callback);
  };
}

/** Counts the attempt and returns the callback that counts its failure (or `callback` unchanged). */
const connectAttempt = safe('pg connect', (client: PgClient, callback: unknown): unknown => {
  const runtime = DB_STATE.runtime;
  if (runtime === undefined || typeof callback !== 'function') return callback;
  const tracked = DB_STATE.connections.get(client) ?? trackClient(client);
  countAttempt(runtime, tracked);
  return function connected(this: unknown, err: unknown) {
    if (err) countFailure(tracked);
    return Reflect.apply(callback as AnyMethod, this, arguments);
  };
});

const countAttempt = safe('pg connect count', (runtime: DbRuntime, tracked: TrackedConnection) => {
  runtime.recorder.connectionAttempted(tracked.labelValues());
});

const countFailure = safe('pg connect failure', (tracked: TrackedConnection) => {
  DB_STATE.runtime?.recorder.connectionFailed(tracked.labelValues());
});

const classify: Classify = (err, runtime) => pgErrorType(err, runtime.detailedPgErrors);

function trackClient(client: PgClient): TrackedConnection {
  const target = { host: client.host, port: client.port, database: client.database };
  const tracked = new TrackedConnection('postgresql', client, target, classify, creatingPool);
  defineOwnMethod(client, 'query', function query(this: unknown, ...args: unknown[]) {
    const next = protoMethod(client, 'query');
    const statement = Statement.start(tracked);
    return statement === undefined ? Reflect.apply(next, this, args) : runQuery(statement, next, this, args);
  });
  return tracked;
}

/**
 * `Client#query` in all its forms: `(text|config, values?, callback?)`, `config.callback`, a
 * submittable (pg `Query`, pg-cursor, pg-query-stream), or a promise.
 */
function runQuery(statement: Statement, next: AnyMethod, self: unknown, args: unknown[]): unknown {
  const { prepared, result } = statement.run(next, self, args, prepareQuery);
  if (prepared?.awaitsPromise) settleWith(statement, result);
  return result;
}

/** A promise the app awaits settles the statement; any other value (a misused client) ends it at once. */
const settleWith = safe('pg query', (statement: Statement, result: unknown) => {
  if (isThenable(result)) statement.watch(result);
  else statement.succeeded();
});

interface PreparedCall {
  args: unknown[];
  /** No callback: pg returns a promise. */
  awaitsPromise: boolean;
}

/** The callback pg will call, found with pg's precedence (`callback`, a function `values`, `config.callback`), wrapped. */
const prepareQuery = safe('pg query', (statement: Statement, args: unknown[]): PreparedCall => {
  const [config, values, callback] = args;
  if (isSubmittable(config)) {
    watchSubmittable(config, statement);
    return { args, awaitsPromise: false };
  }
  if (callback) {
    // A non-function callback makes pg throw, which the caller records.
    return { args: typeof callback === 'function' ? [config, values, statement.callback(callback as Callback), ...args.slice(3)] : args, awaitsPromise: false };
  }
  if (typeof values === 'function') return { args: [config, statement.callback(values as Callback), ...args.slice(2)], awaitsPromise: false };
  if (hasCallback(config)) return { args: [config, values, statement.callback(config.callback)], awaitsPromise: false };
  return { args, awaitsPromise: true };
});

interface Submittable {
  submit: unknown;
  handleError?: unknown;
  handleReadyForQuery?: unknown;
}

function isSubmittable(config: unknown): config is Submittable {
  return typeof config === 'object' && config !== null && typeof (config as Submittable).submit === 'function';
}

function hasCallback(config: unknown): config is { callback: Callback } {
  return typeof config === 'object' && config !== null && typeof (config as { callback?: unknown }).callback === 'function';
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * A submittable ends in `handleError` or `handleReadyForQuery` (pg calls them on the active
 * query); streams and cursors get there at end, error or close.
 */
function watchSubmittable(query: Submittable, statement: Statement): void {
  const { handleError, handleReadyForQuery } = query;
  if (typeof handleError === 'function') {
    defineOwnMethod(query, 'handleError', function (this: unknown, err: unknown) {
      statement.failed(err);
      return Reflect.apply(handleError, this, arguments);
    });
  }
  if (typeof handleReadyForQuery === 'function') {
    defineOwnMethod(query, 'handleReadyForQuery', function (this: unknown) {
      try {
        return Reflect.apply(handleReadyForQuery, this, arguments);
      } finally {
        statement.succeeded(); // no-op if it reported an error through handleError first
      }
    });
  }
}
