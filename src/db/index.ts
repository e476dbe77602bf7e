import type { InstrumentationContext } from '../instrumentation-context.js';

/** Starts the db instrumentations (not yet implemented). Returns the function that disables them. */
export function enableDbInstrumentation(_context: InstrumentationContext): () => void {
  return () => {};
}
