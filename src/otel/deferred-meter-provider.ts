import type {
  Attributes,
  BatchObservableCallback,
  BatchObservableResult,
  Counter,
  Gauge,
  Histogram,
  Meter,
  MeterOptions,
  MeterProvider,
  MetricOptions,
  Observable,
  ObservableCounter,
  ObservableGauge,
  ObservableUpDownCounter,
  UpDownCounter,
} from '@opentelemetry/api';
import { DeferredAdder, DeferredObservable, DeferredRecorder, sdkObservable } from './deferred-instruments.js';
import { PendingOps } from './pending.js';

/** An instrument of API type T that forwards to the SDK's once attached. */
type Attachable<T> = T & { attach(real: T): void };

/**
 * A meter handed out before the OTel SDK has loaded. Its instruments hold their calls until the
 * SDK's meter is attached; instruments created after that come straight from the SDK's meter.
 */
export class DeferredMeter implements Meter {
  #real: Meter | undefined;
  /** One wrapper per batch callback, so that removing it finds what was added. */
  readonly #batchWrappers = new WeakMap<BatchObservableCallback, BatchObservableCallback>();

  constructor(private readonly pending: PendingOps) {}

  attach(real: Meter): void {
    this.#real = real;
  }

  createCounter<A extends Attributes = Attributes>(name: string, options?: MetricOptions): Counter<A> {
    return this.#create((m) => m.createCounter<A>(name, options), () => new DeferredAdder(this.pending));
  }

  createUpDownCounter<A extends Attributes = Attributes>(name: string, options?: MetricOptions): UpDownCounter<A> {
    return this.#create((m) => m.createUpDownCounter<A>(name, options), () => new DeferredAdder(this.pending));
  }

  createHistogram<A extends Attributes = Attributes>(name: string, options?: MetricOptions): Histogram<A> {
    return this.#create((m) => m.createHistogram<A>(name, options), () => new DeferredRecorder(this.pending));
  }

  createGauge<A extends Attributes = Attributes>(name: string, options?: MetricOptions): Gauge<A> {
    return this.#create((m) => m.createGauge<A>(name, options), () => new DeferredRecorder(this.pending));
  }

  createObservableCounter<A extends Attributes = Attributes>(name: string, options?: MetricOptions): ObservableCounter<A> {
    return this.#create((m) => m.createObservableCounter<A>(name, options), () => new DeferredObservable(this.pending));
  }

  createObservableUpDownCounter<A extends Attributes = Attributes>(name: string, options?: MetricOptions): ObservableUpDownCounter<A> {
    return this.#create((m) => m.createObservableUpDownCounter<A>(name, options), () => new DeferredObservable(this.pending));
  }

  createObservableGauge<A extends Attributes = Attributes>(name: string, options?: MetricOptions): ObservableGauge<A> {
    return this.#create((m) => m.createObservableGauge<A>(name, options), () => new DeferredObservable(this.pending));
  }

  addBatchObservableCallback<A extends Attributes = Attributes>(callback: BatchObservableCallback<A>, observables: Observable<A>[]): void {
    if (!this.#real) return this.pending.setup(() => this.addBatchObservableCallback(callback, observables));
    this.#real.addBatchObservableCallback(this.#wrap(callback as BatchObservableCallback), observables.map(sdkObservable));
  }

  removeBatchObservableCallback<A extends Attributes = Attributes>(callback: BatchObservableCallback<A>, observables: Observable<A>[]): void {
    if (!this.#real) return this.pending.setup(() => this.removeBatchObservableCallback(callback, observables));
    this.#real.removeBatchObservableCallback(this.#wrap(callback as BatchObservableCallback), observables.map(sdkObservable));
  }

  #create<T>(create: (meter: Meter) => T, deferred: () => Attachable<T>): T {
    if (this.#real) return create(this.#real);
    const instrument = deferred();
    this.pending.setup(() => this.#real && instrument.attach(create(this.#real)));
    return instrument;
  }

  /** The callback may observe instruments created before the SDK loaded: it gets the SDK's ones. */
  #wrap(callback: BatchObservableCallback): BatchObservableCallback {
    let wrapped = this.#batchWrappers.get(callback);
    if (!wrapped) {
      wrapped = (result) =>
        callback({ observe: (observable, value, attributes) => result.observe(sdkObservable(observable), value, attributes) } satisfies BatchObservableResult);
      this.#batchWrappers.set(callback, wrapped);
    }
    return wrapped;
  }
}

interface HeldMeter {
  meter: DeferredMeter;
  name: string;
  version: string;
  options: MeterOptions;
}

/**
 * The global MeterProvider from the first moment of the preload, standing in for the OTel SDK's
 * until that has loaded (src/otel/lazy-sdk.ts keeps that load off the startup path). Everything
 * done before then is replayed onto the SDK in call order by `attach`, so instruments, callbacks
 * and measurements from before and after end up the same, with the SDK's views and advice applied.
 */
export class DeferredMeterProvider implements MeterProvider {
  #real: MeterProvider | undefined;
  #closed = false;
  readonly #meters = new Map<string, HeldMeter>();
  readonly #pending: PendingOps;

  /** `onPressure`: enough measurements are waiting that the SDK should be loaded now. */
  constructor(onPressure: () => void) {
    this.#pending = new PendingOps(onPressure);
  }

  getMeter(name: string, version = '', options: MeterOptions = {}): Meter {
    // Like the SDK: one meter per scope, the same object on every call.
    const key = JSON.stringify([name, version, options.schemaUrl ?? '']);
    const held = this.#meters.get(key);
    if (held) return held.meter;
    if (this.#real) return this.#real.getMeter(name, version, options);
    // Closed, the pending ops drop whatever a meter is given: a no-op meter.
    if (this.#closed) return new DeferredMeter(this.#pending);
    const meter = new DeferredMeter(this.#pending);
    this.#meters.set(key, { meter, name, version, options });
    return meter;
  }

  /**
   * Hands everything over to the SDK's provider, once. Returns the measurements dropped past
   * the pending limit and the replayed calls that threw.
   */
  attach(real: MeterProvider): { dropped: number; failed: number } {
    this.#real = real;
    // Meters first, in creation order (the SDK lists scopes in that order), then the calls.
    for (const { meter, name, version, options } of this.#meters.values()) meter.attach(real.getMeter(name, version, options));
    return this.#pending.replay();
  }

  /** Without an SDK for good (shutdown, or it failed to load): what was held is dropped. */
  close(): void {
    this.#closed = true;
    this.#pending.discard();
  }
}
