import { InstrumentationBase, InstrumentationNodeModuleFile } from '@opentelemetry/instrumentation';
import { contain } from '../contain.js';
import { commonJsExports } from '../otel/commonjs-exports.js';
import type { AnyMethod } from './own-methods.js';

type PatchableClass = { prototype: Record<string, AnyMethod> };
/** A driver module's exports as a patch gets them: CommonJS exports, or an ESM namespace of them. */
export type PatchableExports = PatchableClass | { default: PatchableClass };

/** The drivers' instrumentations: each wraps one prototype method of a class some driver file exports. */
export abstract class DriverInstrumentation extends InstrumentationBase {
  constructor(private readonly driver: string) {
    super(`otel-django-metrics/${driver}`, '0.1.0', { enabled: false });
  }

  /** `file`'s exported class gets `method` wrapped on its prototype, and unwrapped on disable. */
  protected prototypeFile(file: string, versions: string[], method: string, wrapper: (original: AnyMethod) => AnyMethod): InstrumentationNodeModuleFile {
    return new InstrumentationNodeModuleFile(
      file,
      versions,
      (exported: PatchableExports) => {
        this.patchPrototype(exported, method, wrapper);
        return exported;
      },
      (exported?: PatchableExports) => this.unpatchPrototype(exported, method),
    );
  }

  /**
   * Patching runs inside the app's `require`/`import`, which must not fail because of it: a
   * throw is contained and the driver stays as it was.
   */
  protected patchPrototype(exported: PatchableExports, method: string, wrapper: (original: AnyMethod) => AnyMethod): void {
    contain(`${this.driver} patch`, () => this._wrap((commonJsExports(exported) as PatchableClass).prototype, method, wrapper));
  }

  protected unpatchPrototype(exported: PatchableExports | undefined, method: string): void {
    if (exported) contain(`${this.driver} unpatch`, () => this._unwrap((commonJsExports(exported) as PatchableClass).prototype, method));
  }
}
