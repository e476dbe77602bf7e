import { types } from 'node:util';
import { safe } from '../contain.js';
import { backendFor, enterScope, leaveScope, LOCMEM } from './backends.js';
import { wrapOwn } from './clients.js';
import { Read } from './read.js';
import { currentRecorder } from './recorder.js';

type Method = (this: unknown, ...args: unknown[]) => unknown;

/** Which keys a call reads: `get(key)` one; keyv's `get([keys])`, `getMany(keys)`, cache-manager's `mget(keys)` one per key. */
type KeysOf = (cache: object, args: ArrayLike<unknown>) => { keys: number; many: boolean } | undefined;

const ONE = { keys: 1, many: false };
const many = (keys: unknown) => (Array.isArray(keys) && keys.length > 0 ? { keys: keys.length, many: true } : undefined);
const getKeys: KeysOf = (cache, args) => (Array.isArray(args[0]) && typeof (cache as { getMany?: unknown }).getMany === 'function' ? many(args[0]) : ONE);
const manyKeys: KeysOf = (_cache, args) => many(args[0]);

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
  return function (this: unknown) {
    const read = startRead(cache, keysOf, arguments);
    if (read === undefined) return original.apply(this, arguments as unknown as unknown[]);
    // Everything the lookup does synchronously (a keyv store's get, a store adapter's client call,
    // cache-manager's first keyv) is part of this counted lookup.
    const outer = enterScope(null);
    let result: unknown;
    try {
      result = original.apply(this, arguments as unknown as unknown[]);
    } catch (err) {
      fail(read);
      throw err;
    } finally {
      leaveScope(outer);
    }
    settleOn(read, result);
    return result;
  };
}

const startRead = safe('cache trackCache read', (cache: object, keysOf: KeysOf, args: IArguments): Read | undefined => {
  const recorder = currentRecorder();
  if (recorder === undefined) return undefined;
  const backend = backendFor(cache, LOCMEM);
  if (backend === null) return undefined;
  const shape = keysOf(cache, args);
  return shape && new Read(recorder, backend, shape.keys, shape.many);
});

/** Settles `read` from what `get` returned: a value, or a promise of one. */
const settleOn = safe('cache trackCache reply', (read: Read, result: unknown): void => {
  if (types.isPromise(result)) result.then((value) => answer(read, value), () => fail(read));
  else read.answer(result);
});

const answer = safe('cache trackCache reply', (read: Read, value: unknown) => read.answer(value));
const fail = safe('cache trackCache reply', (read: Read) => read.fail());
