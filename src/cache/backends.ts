import { warnOnceAbout } from './misuse.js';

/** The built-in `backend` label values (both Redis clients are `redis`). */
export const REDIS = 'redis';
export const MEMCACHED = 'memcached';
export const LOCMEM = 'locmem';

const MAX_LENGTH = 64;
/** Distinct names the app may introduce: a name built per tenant or per request cannot grow the families without bound. */
const MAX_NAMES = 100;
const BUILT_IN: ReadonlySet<string> = new Set([REDIS, MEMCACHED, LOCMEM]);
/** The names the app introduced (the built-in names are not among them). */
const names = new Set<string>();

/** `name` if it is an acceptable backend label value, else `undefined` after one warning line. */
export function acceptBackendName(name: unknown, api: string): string | undefined {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_LENGTH) {
    warnOnceAbout(`${api}:invalid`, `${api}: invalid backend name ${JSON.stringify(name)} (expected a non-empty string of at most ${MAX_LENGTH} characters); ignored, as are further invalid names`);
    return undefined;
  }
  if (!BUILT_IN.has(name) && !names.has(name)) {
    if (names.size >= MAX_NAMES) {
      warnOnceAbout(`${api}:too-many`, `${api}: more than ${MAX_NAMES} distinct cache backend names; ${JSON.stringify(name)} and further new names are ignored`);
      return undefined;
    }
    names.add(name);
  }
  return name;
}

/**
 * Backend by client or cache object: a name given by `setCacheBackend`/`trackCache`, or `null`
 * for a client that serves a tracked cache (its reads are counted by that cache, once).
 */
const byObject = new WeakMap<object, string | null>();

export function setObjectBackend(target: object, backend: string | null): void {
  byObject.set(target, backend);
}

export function objectBackend(target: object): string | null | undefined {
  return byObject.get(target);
}

/**
 * The backend of the read being issued right now. The OTel instrumentations call their hooks
 * synchronously inside the client's call but never pass the client, so the per-client wrappers
 * (clients.ts) and tracked caches (track.ts) set it for the duration of their synchronous call:
 * `undefined` = no opinion; a name = a client with its own backend name; `null` = the read is part
 * of a lookup already counted by an enclosing tracked cache, so it is not counted again.
 */
let current: string | null | undefined;

export type Scope = string | null | undefined;

/** Enters a scope; an enclosing `null` (an outer counted lookup) always wins. Returns what to restore. */
export function enterScope(backend: Scope): Scope {
  const outer = current;
  current = outer === null ? null : backend;
  return outer;
}

export function leaveScope(outer: Scope): void {
  current = outer;
}

/** Backend to count a read under, or `null` if it must not be counted: scope, then the object's own name, then the default. */
export function backendFor(target: object | undefined, fallback: string): string | null {
  if (current !== undefined) return current;
  const own = target === undefined ? undefined : byObject.get(target);
  return own === undefined ? fallback : own;
}
