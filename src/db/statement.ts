import type { TrackedConnection } from './connection.js';
import type { AnyMethod } from './own-methods.js';
import { DB_STATE, type DbRuntime } from './runtime.js';

export type Callback = (this: unknown, ...args: unknown[]) => unknown;

/**
 * One statement, or one `executeMany` batch, from its call to its result or error (metrics.md
 * section 4): `execute_total` at the call, then exactly one duration and, if it failed, one error.
 * Whatever the driver API (callback, promise, event emitter), the app's values pass unchanged.
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
    if (runtime === undefined) return undefined;
    try {
      const labels = connection.labelValues();
      runtime.recorder.executed(labels, count, batch);
      return new Statement(runtime, connection, labels);
    } catch (err) {
      runtime.hookFailed('statement start', err);
      return undefined;
    }
  }

  /** A bug while hooking the call: reported once, and the statement records nothing more. */
  abandon(where: string, err: unknown): void {
    this.open = false;
    this.runtime.hookFailed(where, err);
  }

  /**
   * Runs a driver method with the arguments `prepare` made to settle this statement (its callback
   * wrapped, ...). A throw from the driver is recorded and re-raised. If preparing fails (a bug of
   * ours) it is reported, and the app's call runs untouched: `prepared` is then undefined.
   */
  run<P extends { args: unknown[] }>(
    where: string,
    next: AnyMethod,
    self: unknown,
    args: unknown[],
    prepare: (statement: Statement, args: unknown[]) => P,
  ): { prepared: P | undefined; result: unknown } {
    let prepared: P;
    try {
      prepared = prepare(this, args);
    } catch (err) {
      this.abandon(where, err);
      return { prepared: undefined, result: Reflect.apply(next, self, args) };
    }
    try {
      return { prepared, result: Reflect.apply(next, self, prepared.args) };
    } catch (err) {
      this.failed(err);
      throw err;
    }
  }

  succeeded(): void {
    this.end(false, undefined);
  }

  failed(err: unknown): void {
    this.end(true, err);
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

  /** The same settlement as `p` (same value, same rejection reason), after recording it. */
  promise<T>(p: PromiseLike<T>): PromiseLike<T> {
    return p.then(
      (value) => {
        this.succeeded();
        return value;
      },
      (err: unknown) => {
        this.failed(err);
        throw err;
      },
    );
  }

  private end(failed: boolean, err: unknown): void {
    if (!this.open) return;
    this.open = false;
    try {
      const seconds = (performance.now() - this.startMs) / 1000;
      this.runtime.recorder.completed(this.labels, seconds, failed ? this.connection.classify(err, this.runtime) : undefined);
    } catch (e) {
      this.runtime.hookFailed('statement end', e);
    }
  }
}
