import { onceLogger } from '../log.js';

const warnOnce = onceLogger();

/**
 * Runs one step of our own hook code. A bug in it is logged once per hook and swallowed, so the
 * app's call, result and error never depend on the instrumentation.
 */
export function guarded<T>(hook: string, step: () => T): T | undefined {
  try {
    return step();
  } catch (err) {
    warnOnce(hook, `cache instrumentation: ${hook} failed: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

/** One warning line per key, for misuse of the public API. */
export const warnOnceAbout = warnOnce;
