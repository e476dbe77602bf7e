import type { InstrumentationModuleDefinition } from '@opentelemetry/instrumentation';
import { guarded } from './guard.js';

type Patch = (exports: unknown, version?: string) => unknown;

/** The CommonJS exports behind an ESM namespace (an `import` of a CommonJS package through import-in-the-middle). */
function commonJsExports(exports: unknown): unknown {
  const namespace = exports as { [Symbol.toStringTag]?: unknown; default?: unknown } | null;
  return namespace?.[Symbol.toStringTag] === 'Module' && namespace.default !== undefined ? namespace.default : exports;
}

/** `step` run safely on the CommonJS exports; the app keeps what it had if `step` throws. */
function safe(name: string, step: Patch): Patch {
  return (exports, version) => {
    const target = commonJsExports(exports);
    const result = guarded(`${name} patch`, () => step(target, version));
    return target === exports && result !== undefined ? result : exports;
  };
}

/**
 * Makes the module patches an instrumentation's `init()` returns safe to run inside the app's
 * `require`/`import`: a throwing patch or unpatch is logged once and leaves the module as it
 * was, never failing the app's import; patches get the CommonJS exports even when the app
 * `import`s the package (instrumentation-memcached expects them and throws on an ESM namespace).
 */
export function safeDefinitions<T extends InstrumentationModuleDefinition>(definitions: T[]): T[] {
  for (const definition of definitions) {
    if (definition.patch) definition.patch = safe(definition.name, definition.patch.bind(definition));
    if (definition.unpatch) definition.unpatch = safe(definition.name, definition.unpatch.bind(definition));
    for (const file of definition.files) {
      file.patch = safe(file.name, file.patch.bind(file));
      file.unpatch = safe(file.name, file.unpatch.bind(file));
    }
  }
  return definitions;
}
