import type { HttpRecorder } from '../recorder.js';

/** The fastify adapter (not yet implemented). Returns the function that disables it. */
export function enableFastifyAdapter(_recorder: HttpRecorder): () => void {
  return () => {};
}
