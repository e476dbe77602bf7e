import { DB } from '../../views/index.js';
import type { Counter } from '../store/counter.js';
import type { Histogram } from '../store/histogram.js';
import type { Registry } from '../store/registry.js';

/**
 * The only place that turns driver events into the 6 DB families. Label values come in the
 * families' declared order: `[alias, vendor]`, plus `type` for errors.
 */
export class DbRecorder {
  private readonly newConnections: Counter;
  private readonly newConnectionErrors: Counter;
  private readonly execute: Counter;
  private readonly executeMany: Counter;
  private readonly errors: Counter;
  private duration: Histogram;

  constructor(registry: Registry) {
    this.newConnections = registry.counter(DB.newConnections);
    this.newConnectionErrors = registry.counter(DB.newConnectionErrors);
    this.execute = registry.counter(DB.execute);
    this.executeMany = registry.counter(DB.executeMany);
    this.errors = registry.counter(DB.errors);
    this.duration = registry.histogram(DB.queryDuration);
    // configure() may give the duration histogram the app's own buckets before the first query.
    registry.onReshape(() => (this.duration = registry.histogram(DB.queryDuration)));
  }

  connectionAttempted(labels: readonly string[]): void {
    this.newConnections.add(labels);
  }

  connectionFailed(labels: readonly string[]): void {
    this.newConnectionErrors.add(labels);
  }

  /** `count` statements issued; a batch of `count` also adds to `execute_many_total` (Django's executemany). */
  executed(labels: readonly string[], count: number, batch: boolean): void {
    this.execute.add(labels, count);
    if (batch) this.executeMany.add(labels, count);
  }

  /** A statement (or a whole batch) finished; `errorType` when it failed. */
  completed(labels: readonly string[], seconds: number, errorType: string | undefined): void {
    this.duration.observeWith(labels, seconds);
    if (errorType !== undefined) this.errors.add([...labels, errorType]);
  }
}
