import type { HttpRecorder } from '../recorder.js';
import { ExpressInstrumentation } from './express-instrumentation.js';
import { reusedInstrumentation } from './reused-instrumentation.js';

const enable = reusedInstrumentation(() => new ExpressInstrumentation());

/**
 * The express 4/5 adapter (metrics.md section 2: TF, route match, view, templatename, error).
 * Its hooks reach the recorder through each request's state. Returns the function that disables it.
 */
export function enableExpressAdapter(_recorder: HttpRecorder): () => void {
  return enable();
}
