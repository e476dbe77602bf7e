import type { InstrumentationModuleDefinition } from '@opentelemetry/instrumentation';
import { safe } from '../contain.js';
import { commonJsExports } from '../otel/commonjs-exports.js';

type Patch = (exports: unknown, version?: string) => unknown;

/** `step` run safely on the CommonJS exports; the app keeps what it had if `step` throws. */
function safePatch(site: string, step: Patch): Patch {
  const patched = safe(site, (exports: unknown, version?: string) => {
    const target = commonJsExports(exports);
    const result = step(target, version);
    return target === exports && result !== undefined ? result : exports;
  });
  return (exports, version) => patched(exports, version) ?? exports;
}

/**
 * Makes the module patches an instrumentation's `init()` returns safe to run inside the app's
 * `require`/`import`: a throwing patch or unpatch is logged once and leaves the module as it
 * was, never failing the app's import; patches get the CommonJS exports even when the app
 * `import`s the package (instrumentation-memcached expects them and throws on an ESM namespace).
 */
export function safeDefinitions<T extends InstrumentationModuleDefinition>(definitions: T[]): T[] {
  for (const definition of definitions) {
    if (definition.patch) definition.patch = safePatch(`cache ${definition.name} patch`, definition.patch.bind(definition));
    if (definition.unpatch) definition.unpatch = safePatch(`cache ${definition.name} unpatch`, definition.unpatch.bind(definition));
    for (const file of definition.files) {
      file.patch = safePatch(`cache ${file.name} patch`, file.patch.bind(file));
      file.unpatch = safePatch(`cache ${file.name} unpatch`, file.unpatch.bind(file));
    }
  }
  return definitions;
}
