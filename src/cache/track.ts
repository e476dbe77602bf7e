import { types } from 'node:util';
import { backendFor, enterScope, leaveScope, LOCMEM } from './backends.js';
import { wrapOwn } from './clients.js';
import { guarded } from './guard.js';
import { Read } from './read.js';
import { currentRecorder } from './recorder.js';

type Method = (this: unknown, ...args: unknown[]) => unknown;

/** Which keys a call reads: `get(key)` one; keyv's `get([keys])`, `getMany(keys)`, cache-manager's `mget(keys)` one per key. */
type KeysOf = (cache: object, args: unknown[]) => { keys: number; many: boolean } | undefined;

const ONE = { keys: 1, many: false };
const many = (keys: unknown) => (Array.isArray(keys) && keys.length > 0 ? { keys: keys.length, many: true } : undefined);
const getKeys: KeysOf = (cache, [key]) => (Array.isArray(key) && typeof (cache as { getMany?: unknown }).getMany === 'function' ? many(key) : ONE);
const manyKeys: KeysOf = (_cache, [keys]) => many(keys);

/** The read methods trackCache wraps when an object has them. */
const READ_METHODS: ReadonlyArray<readonly [string, KeysOf]> = [
  ['get', getKeys],
  ['getMany', manyKeys], // keyv
  ['mget', manyKeys], // cache-manager
];

const tracked = new WeakSet<object>();

export function isTracked(cache: object): boolean {
  return tracked.has(cache);
}

/**
 * Wraps the read methods of one cache object (own-property wrappers: other instances and the
 * class are untouched). Calls pass through unchanged, same `this`, arguments, return value
 * (the same promise object) and exceptions. Returns false if the object has no `get`.
 */
export function wrapReads(cache: object): boolean {
  if (tracked.has(cache)) return true;
  if (typeof (cache as { get?: unknown }).get !== 'function') return false;
  for (const [name, keysOf] of READ_METHODS) wrapOwn(cache, name, (original) => countingRead(cache, original, keysOf));
  tracked.add(cache);
  return true;
}

function countingRead(cache: object, original: Method, keysOf: KeysOf): Method {
  return function (this: unknown, ...args: unknown[]) {
    const read = guarded('trackCache read', () => startRead(cache, keysOf, args));
    if (read === undefined) return original.apply(this, args);
    // Everything the lookup does synchronously (a keyv store's get, a store adapter's client call,
    // cache-manager's first keyv) is part of this counted lookup.
    const outer = enterScope(null);
    let result: unknown;
    try {
      result = original.apply(this, args);
    } catch (err) {
      guarded('trackCache read', () => read.fail());
      throw err;
    } finally {
      leaveScope(outer);
    }
    if (types.isPromise(result)) {
      result.then(
        (value) => guarded('trackCache reply', () => read.answer(value)),
        () => guarded('trackCache reply', () => read.fail()),
      );
    } else {
      guarded('trackCache reply', () => read.answer(result));
    }
    return result;
  };
}

function startRead(cache: object, keysOf: KeysOf, args: unknown[]): Read | undefined {
  const recorder = currentRecorder();
  if (recorder === undefined) return undefined;
  const backend = backendFor(cache, LOCMEM);
  if (backend === null) return undefined;
  const shape = keysOf(cache, args);
  return shape && new Read(recorder, backend, shape.keys, shape.many);
}
