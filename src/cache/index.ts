import type { InstrumentationContext } from '../instrumentation-context.js';

/** Starts the cache instrumentations (not yet implemented). Returns the function that disables them. */
export function enableCacheInstrumentation(_context: InstrumentationContext): () => void {
  return () => {};
}
