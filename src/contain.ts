import { logLine, type Logger } from './log.js';

/**
 * The one containment primitive. Every hook the package installs in someone else's process (a
 * diagnostics-channel subscriber, a listener, a prototype or client wrapper, a module-load hook,
 * the scrape writer) runs its own steps through `safe` or `contain`: a throw is reported once per
 * site and swallowed, the measurement it was making is dropped, and the app's call goes on exactly
 * as without the package. The app's own code (the original method, the app's callback) always runs
 * outside the contained step, so the app's errors reach the app unchanged.
 */

/** The stable code of a contained failure, for grepping logs and alerting on them. */
export const HOOK_FAILED = 'ODM001';

let report: Logger = logLine;
const reported = new Set<string>();

/** Contained failures are reported through the distribution's logger (`start({ log })`). */
export function setContainmentLog(log: Logger): void {
  report = log;
}

/** Reports a failure of the package's own code at `site`, the first time that site fails. */
export function hookFailed(site: string, err: unknown): void {
  if (reported.has(site)) return;
  reported.add(site);
  try {
    report(`${HOOK_FAILED} ${site} failed; the measurement is dropped and the app is unaffected: ${describeError(err)}`);
  } catch {
    // A logger that throws must not reach the app either.
  }
}

/** Runs `step` now: its value, or `undefined` when it threw (reported). */
export function contain<T>(site: string, step: () => T): T | undefined {
  try {
    return step();
  } catch (err) {
    hookFailed(site, err);
    return undefined;
  }
}

/**
 * `fn` made safe: called with the same `this` and arguments, it returns `fn`'s value, or
 * `undefined` when `fn` threw (reported). Make it once per hook, not per call: the wrapper passes
 * `arguments` through, so a call allocates nothing.
 */
export function safe<A extends unknown[], R, T = unknown>(site: string, fn: (this: T, ...args: A) => R): (this: T, ...args: A) => R | undefined {
  return function (this: T): R | undefined {
    try {
      return fn.apply(this, arguments as unknown as A);
    } catch (err) {
      hookFailed(site, err);
      return undefined;
    }
  };
}

/** An error as one log fragment (`Name: message`); never throws, whatever the value. */
export function describeError(err: unknown): string {
  try {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  } catch {
    return 'an unprintable value';
  }
}
