import { onceLogger } from '../log.js';

/**
 * One warning line per key, for misuse of the public API (an invalid backend name, an object that
 * is not a cache). Not a failure of the package's own code: those are contained failures (ODM001).
 */
export const warnOnceAbout = onceLogger();
