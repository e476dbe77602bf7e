import { basename } from 'node:path';
import { InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile, type InstrumentationModuleDefinition } from '@opentelemetry/instrumentation';
import { contain, safe } from '../contain.js';
import type { DbTarget } from './aliases.js';
import { TrackedConnection } from './connection.js';
import { DriverInstrumentation } from './driver-instrumentation.js';
import { defineOwnMethod, protoMethod, type AnyMethod } from './own-methods.js';
import { DB_STATE, type Vendor } from './runtime.js';
import { sqliteErrorType } from './sqlite-errors.js';
import { Statement } from './statement.js';

/** Tested with better-sqlite3 12.11; relies on `lib/database.js` exporting the `Database` constructor. */
const BETTER_SQLITE3_VERSIONS = ['>=12 <13'];

// Django's sqlite3 backend vendor name.
const VENDOR: Vendor = 'sqlite';

type DatabaseClass = (new (...args: unknown[]) => object) & { prototype: object };

/** Marks our constructor, so that a re-patch after a restart keeps the one the app already holds. */
const WRAPPED = Symbol('otel-django-metrics.better-sqlite3');

/**
 * better-sqlite3 is synchronous and opens its database file in the `Database` constructor, the
 * export of `lib/database.js`: that export is replaced by a constructor that counts each open and
 * its failure, and gives each database its own instrumented `prepare`, `exec` and `pragma`. A
 * prepared statement gets its own `run`, `get`, `all` and `iterate`. Nothing is undone on
 * disable: the app holds the constructor, which records nothing while the distribution is stopped.
 */
export class BetterSqlite3MetricsInstrumentation extends DriverInstrumentation {
  constructor() {
    super('better-sqlite3');
  }

  protected init(): InstrumentationModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition('better-sqlite3', BETTER_SQLITE3_VERSIONS, undefined, undefined, [
        new InstrumentationNodeModuleFile('better-sqlite3/lib/database.js', BETTER_SQLITE3_VERSIONS, (exported: DatabaseClass) =>
          contain('better-sqlite3 patch', () => instrumentedDatabase(exported)) ?? exported,
          // The app keeps the constructor it was given; stopped, it records nothing.
          (exported?: DatabaseClass) => exported,
        ),
      ]),
    ];
  }
}

function instrumentedDatabase(Original: DatabaseClass): DatabaseClass {
  if (WRAPPED in Original) return Original;
  // `function`, not a class: better-sqlite3's own constructor may be called without `new`.
  const Database = function Database(this: unknown, _filename?: unknown, _options?: unknown): object {
    return open(Original, arguments, new.target ?? Database);
  } as unknown as DatabaseClass;
  Database.prototype = Original.prototype;
  Object.defineProperty(Database, WRAPPED, { value: true });
  return Database;
}

/** One `new Database()`: the attempt, and its failure when the constructor throws. */
function open(Original: DatabaseClass, args: IArguments, newTarget: unknown): object {
  let db: object;
  try {
    db = Reflect.construct(Original, args, newTarget as DatabaseClass);
  } catch (err) {
    openFailed(args[0]);
    throw err;
  }
  opened(db, args[0]);
  return db;
}

/**
 * `PROMETHEUS_DB_ALIASES` matches a SQLite database by its file's base name (`audit=/audit.db`
 * matches `/var/data/audit.db`, `mem=/:memory:` an in-memory one); it has no host or port.
 */
function targetOf(filename: unknown): DbTarget {
  if (Buffer.isBuffer(filename)) return { database: ':memory:' };
  if (typeof filename !== 'string' || filename.trim() === '') return {};
  const name = filename.trim();
  return { database: name.startsWith('file:') ? basename(name.slice('file:'.length).split('?', 1)[0]!) : basename(name) };
}

const opened = safe('better-sqlite3 connect', (db: object, filename: unknown) => {
  if (DB_STATE.runtime === undefined) return;
  const tracked = new TrackedConnection(VENDOR, db, targetOf(filename), sqliteErrorType);
  defineOwnMethod(db, 'prepare', instrumentedPrepare(db, tracked));
  for (const method of ['exec', 'pragma']) defineOwnMethod(db, method, instrumentedCall(db, tracked, method));
  // Counted once the constructor returned, so that `setDbAlias(new Database(file), alias)` names the open.
  queueMicrotask(() => countOpen(tracked));
});

const countOpen = safe('better-sqlite3 connect count', (tracked: TrackedConnection) => {
  DB_STATE.runtime?.recorder.connectionAttempted(tracked.labelValues());
});

const openFailed = safe('better-sqlite3 connect failure', (filename: unknown) => {
  const runtime = DB_STATE.runtime;
  if (runtime === undefined) return;
  // A failed open leaves no Database for `setDbAlias`: the labels come from the rules alone.
  const labels = new TrackedConnection(VENDOR, {}, targetOf(filename), sqliteErrorType).labelValues();
  runtime.recorder.connectionAttempted(labels);
  runtime.recorder.connectionFailed(labels);
});

/**
 * The driver's synchronous call, its arguments untouched: a throw is the statement's error and
 * reaches the app as it came. (No `Statement#run`: nothing needs preparing, and the hot path
 * allocates nothing.)
 */
function callDriver(statement: Statement, next: AnyMethod, self: unknown, args: IArguments): unknown {
  try {
    return Reflect.apply(next, self, args);
  } catch (err) {
    statement.failed(err);
    throw err;
  }
}

/** `exec`, `pragma` and the statement methods: one statement per call, its duration the call. */
function instrumentedCall(target: object, tracked: TrackedConnection, method: string): AnyMethod {
  return function (this: unknown) {
    const next = protoMethod(target, method);
    const statement = Statement.start(tracked);
    if (statement === undefined) return Reflect.apply(next, this, arguments);
    const result = callDriver(statement, next, this, arguments);
    statement.succeeded();
    return result;
  };
}

/**
 * A successful `prepare` runs nothing and counts nothing (its statement's runs do); a failing one
 * (a syntax error, an unknown table) counts as one failed statement, as Django's `execute` of the
 * same SQL would.
 */
function instrumentedPrepare(db: object, tracked: TrackedConnection): AnyMethod {
  return function prepare(this: unknown, ...args: unknown[]) {
    const next = protoMethod(db, 'prepare');
    let stmt: unknown;
    try {
      stmt = Reflect.apply(next, this, args);
    } catch (err) {
      countFailedPrepare(tracked, err);
      throw err;
    }
    instrumentStatement(stmt, tracked);
    return stmt;
  };
}

const countFailedPrepare = safe('better-sqlite3 prepare', (tracked: TrackedConnection, err: unknown) => {
  Statement.start(tracked)?.failed(err);
});

const STATEMENT_CALLS = ['run', 'get', 'all'];

const instrumentStatement = safe('better-sqlite3 prepare', (stmt: unknown, tracked: TrackedConnection) => {
  if (typeof stmt !== 'object' || stmt === null) return;
  for (const method of STATEMENT_CALLS) defineOwnMethod(stmt, method, instrumentedCall(stmt, tracked, method));
  defineOwnMethod(stmt, 'iterate', instrumentedIterate(stmt, tracked));
});

/** `iterate` counts at the call; its duration runs until the iterator is exhausted, closed or throws. */
function instrumentedIterate(stmt: object, tracked: TrackedConnection): AnyMethod {
  return function iterate(this: unknown) {
    const next = protoMethod(stmt, 'iterate');
    const statement = Statement.start(tracked);
    if (statement === undefined) return Reflect.apply(next, this, arguments);
    const iterator = callDriver(statement, next, this, arguments);
    watchIterator(iterator, statement);
    return iterator;
  };
}

interface NativeIterator {
  next: AnyMethod;
  return: AnyMethod;
}

const watchIterator = safe('better-sqlite3 iterate', (iterator: unknown, statement: Statement) => {
  if (typeof iterator !== 'object' || iterator === null) return statement.succeeded();
  const target = iterator as NativeIterator;
  defineOwnMethod(target, 'next', function (this: unknown) {
    let step: unknown;
    try {
      step = Reflect.apply(protoMethod(target, 'next'), this, arguments);
    } catch (err) {
      statement.failed(err);
      throw err;
    }
    if ((step as { done?: unknown } | null)?.done === true) statement.succeeded();
    return step;
  });
  defineOwnMethod(target, 'return', function (this: unknown) {
    try {
      return Reflect.apply(protoMethod(target, 'return'), this, arguments);
    } finally {
      statement.succeeded(); // no-op once exhausted or failed
    }
  });
});
