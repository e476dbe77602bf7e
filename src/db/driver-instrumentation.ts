import { InstrumentationBase, InstrumentationNodeModuleFile } from '@opentelemetry/instrumentation';
import type { AnyMethod } from './own-methods.js';

export type PatchableClass = { prototype: Record<string, AnyMethod> };

/** The drivers' instrumentations: each wraps one prototype method of a class some driver file exports. */
export abstract class DriverInstrumentation extends InstrumentationBase {
  constructor(driver: string) {
    super(`otel-django-metrics/${driver}`, '0.1.0', { enabled: false });
  }

  /** `file`'s exported class gets `method` wrapped on its prototype, and unwrapped on disable. */
  protected prototypeFile(file: string, versions: string[], method: string, wrapper: (original: AnyMethod) => AnyMethod): InstrumentationNodeModuleFile {
    return new InstrumentationNodeModuleFile(
      file,
      versions,
      (exported: PatchableClass) => {
        this._wrap(exported.prototype, method, wrapper);
        return exported;
      },
      (exported?: PatchableClass) => {
        if (exported) this._unwrap(exported.prototype, method);
      },
    );
  }
}
