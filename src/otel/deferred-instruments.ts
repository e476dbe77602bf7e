import type { Attributes, Context, Counter, Gauge, Histogram, Observable, ObservableCallback, UpDownCounter } from '@opentelemetry/api';
import type { PendingOps } from './pending.js';

/**
 * Instruments handed out before the OTel SDK has loaded. Each holds its calls in the provider's
 * pending ops until `attach` gives it the SDK's instrument, then forwards to it.
 */
abstract class Deferred<T> {
  protected real: T | undefined;

  constructor(protected readonly pending: PendingOps) {}

  attach(real: T): void {
    this.real = real;
  }
}

/** The attributes as they are now: callers may reuse and mutate one object between calls. */
const snapshot = (attributes: Attributes | undefined): Attributes | undefined => attributes && { ...attributes };

/** A Counter or UpDownCounter. */
export class DeferredAdder extends Deferred<Counter> implements Counter, UpDownCounter {
  add(value: number, attributes?: Attributes, context?: Context): void {
    if (this.real) return this.real.add(value, attributes, context);
    const held = snapshot(attributes);
    this.pending.measurement(() => this.add(value, held, context));
  }
}

/** A Histogram or Gauge. */
export class DeferredRecorder extends Deferred<Histogram | Gauge> implements Histogram, Gauge {
  record(value: number, attributes?: Attributes, context?: Context): void {
    if (this.real) return this.real.record(value, attributes, context);
    const held = snapshot(attributes);
    this.pending.measurement(() => this.record(value, held, context));
  }
}

/** An observable instrument: callbacks registered before the SDK loaded are registered on it then. */
export class DeferredObservable extends Deferred<Observable> implements Observable {
  /** What batch callbacks must name: the SDK ignores instruments it did not create. */
  get target(): Observable {
    return this.real ?? this;
  }

  addCallback(callback: ObservableCallback): void {
    if (this.real) return this.real.addCallback(callback);
    this.pending.setup(() => this.addCallback(callback));
  }

  removeCallback(callback: ObservableCallback): void {
    if (this.real) return this.real.removeCallback(callback);
    this.pending.setup(() => this.removeCallback(callback));
  }
}

export function sdkObservable(observable: Observable): Observable {
  return observable instanceof DeferredObservable ? observable.target : observable;
}
