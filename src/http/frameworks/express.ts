import type { HttpRecorder } from '../recorder.js';

/** The express adapter (not yet implemented). Returns the function that disables it. */
export function enableExpressAdapter(_recorder: HttpRecorder): () => void {
  return () => {};
}
