import { safe } from '../contain.js';
import { enterScope, leaveScope, objectBackend } from './backends.js';

/** The client objects `setCacheBackend` and tracked caches recognise, by shape. */
export type ClientKind = 'ioredis' | 'node-redis' | 'memcached';

export function clientKind(target: object): ClientKind | undefined {
  const o = target as Record<string, unknown>;
  if (typeof o.command === 'function' && typeof o.getMulti === 'function') return 'memcached';
  if (typeof o.sendCommand !== 'function') return undefined;
  if (typeof o.pipeline === 'function') return 'ioredis'; // Redis and Cluster
  if (typeof o.MULTI === 'function') return 'node-redis'; // createClient()
  return undefined;
}

type Method = (this: unknown, ...args: unknown[]) => unknown;

/** node-redis's single- and multi-key read methods. */
const NODE_REDIS_READS = ['get', 'GET', 'mGet', 'MGET'];

const scoped = new WeakSet<object>();

/**
 * Makes the OTel hooks see `client`'s backend (objectBackend) while its commands are issued, by
 * own-property wrappers on this one client: ioredis and node-redis 5 route every command through
 * `sendCommand` (ioredis's Cluster dispatches to its nodes from there), node-redis's MULTI queues
 * through the `addCommand` of the object `multi()` returns. memcached needs none: its
 * instrumentation hands us the client.
 */
export function scopeClient(client: object, kind: ClientKind): void {
  if (kind === 'memcached' || scoped.has(client)) return;
  scoped.add(client);
  const inScope = (original: Method): Method =>
    function (this: unknown) {
      const outer = enterScope(backendOf(client));
      try {
        return original.apply(this, arguments as unknown as unknown[]);
      } finally {
        leaveScope(outer);
      }
    };
  if (kind === 'ioredis') {
    wrapOwn(client, 'sendCommand', inScope);
    return;
  }
  const scopeQueue = safe('cache client multi', (multi: unknown) => {
    if (typeof multi === 'object' && multi !== null) wrapOwn(self(multi), 'addCommand', inScope);
  });
  const scopeMulti = (original: Method): Method =>
    function (this: unknown) {
      const multi = original.apply(this, arguments as unknown as unknown[]);
      scopeQueue(multi);
      return multi;
    };
  const target = self(client);
  wrapOwn(target, 'sendCommand', inScope);
  // node-redis 4 runs its command methods through a private sender: its read methods need their own scope.
  for (const read of NODE_REDIS_READS) wrapOwn(target, read, inScope);
  wrapOwn(target, 'MULTI', scopeMulti);
  wrapOwn(target, 'multi', scopeMulti);
}

/** The client's own backend name; `undefined` (no opinion) if that lookup fails. */
const backendOf = safe('cache client scope', objectBackend);

/**
 * node-redis hands out `Object.create(instance)` views (the client, `withCommandOptions()`, a
 * multi) and calls its methods on the underlying `_self`: wrappers go there, where every view sees them.
 */
function self(target: object): object {
  const underlying = (target as { _self?: unknown })._self;
  return typeof underlying === 'object' && underlying !== null ? underlying : target;
}

/**
 * Replaces `target[name]` by a wrapper as an own property, keeping an existing own property's
 * attributes (an object literal's enumerable method stays enumerable). False if there is no such method.
 */
export function wrapOwn(target: object, name: string, wrapper: (original: Method) => Method): boolean {
  const original = (target as Record<string, unknown>)[name];
  if (typeof original !== 'function') return false;
  const own = Object.getOwnPropertyDescriptor(target, name);
  Object.defineProperty(target, name, {
    value: wrapper(original as Method),
    writable: own?.writable ?? true,
    enumerable: own?.enumerable ?? false,
    configurable: true,
  });
  return true;
}
