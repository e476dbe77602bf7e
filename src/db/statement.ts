import { safe } from '../contain.js';
import type { TrackedConnection } from './connection.js';
import type { AnyMethod } from './own-methods.js';
import { DB_STATE, type DbRuntime } from './runtime.js';

export type Callback = (this: unknown, ...args: unknown[]) => unknown;

/**
 * One statement, or one `executeMany` batch, from its call to its result or error (metrics.md
 * section 4): `execute_total` at the call, then exactly one duration and, if it failed, one error.
 * Whatever the driver API (callback, promise, event emitter), the app's values pass unchanged.
 * Each measurement is contained on its own: a failed count still lets the duration be recorded.
 */
export class Statement {
  private open = true;
  private readonly startMs = performance.now();

  private constructor(
    private readonly runtime: DbRuntime,
    private readonly connection: TrackedConnection,
    private readonly labels: readonly string[],
  ) {}

  /** `undefined` when the distribution is off (or the hook failed): the caller just runs the driver. */
  static start(connection: TrackedConnection, count = 1, batch = false): Statement | undefined {
    const runtime = DB_STATE.runtime;
    return runtime === undefined ? undefined : Statement.begin(runtime, connection, count, batch);
  }

  private static readonly begin = safe('db statement start', (runtime: DbRuntime, connection: TrackedConnection, count: number, batch: boolean) => {
    const statement = new Statement(runtime, connection, connection.labelValues());
    countExecuted(runtime, statement.labels, count, batch);
    return statement;
  });

  /**
   * Runs a driver method with the arguments `prepare` made to settle this statement (its callback
   * wrapped, ...). `prepare` is contained: when it fails (`undefined`), the statement records
   * nothing more and the app's call runs untouched. A throw from the driver is recorded and
   * re-raised as it came.
   */
  run<P extends { args: unknown[] }>(
    next: AnyMethod,
    self: unknown,
    args: unknown[],
    prepare: (statement: Statement, args: unknown[]) => P | undefined,
  ): { prepared: P | undefined; result: unknown } {
    const prepared = prepare(this, args);
    if (prepared === undefined) {
      this.open = false;
      return { prepared, result: Reflect.apply(next, self, args) };
    }
    try {
      return { prepared, result: Reflect.apply(next, self, prepared.args) };
    } catch (err) {
      this.failed(err);
      throw err;
    }
  }

  succeeded(): void {
    if (this.open) Statement.complete(this, undefined, false);
  }

  failed(err: unknown): void {
    if (this.open) Statement.complete(this, err, true);
  }

  /** An error-first driver callback that settles the statement first, then runs unchanged. */
  callback(cb: Callback): Callback {
    const statement = this;
    return function settleThenCall(this: unknown) {
      const err: unknown = arguments[0];
      if (err === null || err === undefined) statement.succeeded();
      else statement.failed(err);
      return Reflect.apply(cb, this, arguments);
    };
  }

  /**
   * Records how `p` settles and returns `p` itself: the app awaits the driver's own promise, and
   * the recording reaction, registered first, never rejects.
   */
  watch<T>(p: PromiseLike<T>): PromiseLike<T> {
    Statement.react(this, p);
    return p;
  }

  private static readonly react = safe('db statement end', (statement: Statement, p: PromiseLike<unknown>) => {
    p.then(
      () => statement.succeeded(),
      (err: unknown) => statement.failed(err),
    );
  });

  private static readonly complete = safe('db statement end', (statement: Statement, err: unknown, failed: boolean) => {
    statement.open = false;
    const { runtime, connection, labels } = statement;
    const seconds = (performance.now() - statement.startMs) / 1000;
    runtime.recorder.completed(labels, seconds, failed ? connection.classify(err, runtime) : undefined);
  });
}

const countExecuted = safe('db statement count', (runtime: DbRuntime, labels: readonly string[], count: number, batch: boolean) => {
  runtime.recorder.executed(labels, count, batch);
});
