import { InstrumentationBase, type InstrumentationConfig } from '@opentelemetry/instrumentation';
import { WrappedMethods } from './wrapped-methods.js';

/**
 * A framework adapter's `@opentelemetry/instrumentation`: module hooks that wrap the framework's
 * methods. It emits no telemetry of its own, so its scope version is irrelevant.
 */
export abstract class AdapterInstrumentation extends InstrumentationBase<InstrumentationConfig> {
  constructor(framework: string) {
    super(`otel-django-metrics/${framework}`, '0.0.0', {});
  }

  /** A record of wraps made through this instrumentation, for its `disable` to restore. */
  protected wrappedMethods(): WrappedMethods {
    return new WrappedMethods(
      (target, method, wrapper) => this._wrap(target, method, wrapper),
      (target, method) => this._unwrap(target, method),
    );
  }
}
