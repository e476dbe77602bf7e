import type { HttpRecorder } from '../recorder.js';
import { ExpressInstrumentation } from './express-instrumentation.js';

/**
 * One instrumentation per process, re-enabled by a restarted distribution: its module hooks stay
 * registered and `enable` re-patches the modules already loaded, which a new instance could not.
 */
let instrumentation: ExpressInstrumentation | undefined;

/**
 * The express 4/5 adapter (metrics.md section 2: TF, route match, view, templatename, error).
 * Its hooks reach the recorder through each request's state. Returns the function that disables it.
 */
export function enableExpressAdapter(_recorder: HttpRecorder): () => void {
  if (instrumentation === undefined) instrumentation = new ExpressInstrumentation();
  else instrumentation.enable();
  const enabled = instrumentation;
  return () => enabled.disable();
}
