import { InstrumentationBase, InstrumentationNodeModuleDefinition, type InstrumentationModuleDefinition } from '@opentelemetry/instrumentation';
import { contain } from '../contain.js';
import { commonJsExports } from '../otel/commonjs-exports.js';
import type { Disable } from '../otel/package-loads.js';
import { wrapMethod, type MethodWrapper } from './method-wrappers.js';

/**
 * The module patches of the migration tools found without user code; a tool's Disable takes back
 * every method wrapper and replaced export its patches made.
 */

/** Registers how to undo one change a patch made to the app's modules or classes. */
export type OnDisable = (undo: Disable) => void;

/** Wrappers of a prototype's methods, by method name. */
export type MethodWrappers = Record<string, MethodWrapper>;

/**
 * Starts a tool's module patches (`definitions` are built once, here). The Disable stops them,
 * then runs the undo steps they registered through `onDisable`, newest first.
 */
export function enableToolPatches(tool: string, definitions: (onDisable: OnDisable) => InstrumentationModuleDefinition[]): Disable {
  const undo: Disable[] = [];
  class ToolPatches extends InstrumentationBase {
    constructor() {
      // It emits no telemetry of its own, so its scope version is irrelevant.
      super(`otel-django-metrics/${tool}-migrations`, '0.0.0', { enabled: false });
    }

    protected override init(): InstrumentationModuleDefinition[] {
      return definitions((step) => undo.push(step));
    }
  }
  const patches = new ToolPatches();
  patches.enable();
  return () => {
    patches.disable();
    for (const step of undo.splice(0).reverse()) step();
  };
}

/** Module-level unpatching is not used: wrappers and replaced exports are undone (or go inert) by the Disable. */
export const keep = (exported: unknown): unknown => exported;

/**
 * Wraps a prototype's methods with `wrappers()`, each prototype once (a package loaded through
 * both `require` and `import` shows the same class twice); every wrap is undone on disable.
 */
export function methodPatcher(onDisable: OnDisable): (prototype: object, wrappers: () => MethodWrappers) => void {
  const patched = new WeakSet<object>();
  return (prototype, wrappers) => {
    if (patched.has(prototype)) return;
    patched.add(prototype);
    for (const [name, wrapper] of Object.entries(wrappers())) onDisable(wrapMethod(prototype, name, wrapper));
  };
}

/** A class a tool's module exports, whose prototype methods are wrapped. */
export interface ClassMethods {
  /** The class's export name; a module without it is left alone. */
  readonly exportName: string;
  /** Where a failure to patch is contained (and reported). */
  readonly site: string;
  /** The wrappers, made once per prototype; `exports` (the module's CommonJS exports) for what they need beside the class. */
  wrappers(exports: Record<string, unknown>): MethodWrappers;
}

/** A module hook that wraps the methods of the class `methods` names; the module is handed back as loaded. */
export function patchClassMethods(methods: ClassMethods, onDisable: OnDisable): (exported: unknown) => unknown {
  const wrapOnce = methodPatcher(onDisable);
  return (exported) => {
    contain(methods.site, () => {
      const exports = commonJsExports(exported) as Record<string, { prototype?: object } | undefined>;
      const prototype = exports[methods.exportName]?.prototype;
      if (prototype !== undefined) wrapOnce(prototype, () => methods.wrappers(exports));
    });
    return exported;
  };
}

/** Starts the patches of a tool whose hook is the methods of one class its package (`module`, in `versions`) exports. */
export function enableClassPatches(tool: string, module: string, versions: string[], methods: ClassMethods): Disable {
  return enableToolPatches(tool, (onDisable) => [new InstrumentationNodeModuleDefinition(module, versions, patchClassMethods(methods, onDisable), keep)]);
}
