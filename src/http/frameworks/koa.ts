import type { HttpRecorder } from '../recorder.js';

/** The koa adapter (not yet implemented). Returns the function that disables it. */
export function enableKoaAdapter(_recorder: HttpRecorder): () => void {
  return () => {};
}
