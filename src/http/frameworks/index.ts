import type { HttpRecorder } from '../recorder.js';
import { enableExpressAdapter } from './express.js';
import { enableFastifyAdapter } from './fastify.js';
import { enableKoaAdapter } from './koa.js';

/**
 * Framework adapters: each translates one framework's events (entry, route match, render, error)
 * into recorder calls. They patch through `@opentelemetry/instrumentation` module hooks, which
 * cover CommonJS `require` and ESM `import` alike. Returns the function that disables them.
 */
export function enableFrameworkAdapters(recorder: HttpRecorder): () => void {
  const disables = [enableExpressAdapter(recorder), enableFastifyAdapter(recorder), enableKoaAdapter(recorder)];
  return () => disables.forEach((disable) => disable());
}
