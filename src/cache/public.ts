/** The public cache API (trackCache, setCacheBackend), re-exported by src/index.ts. */
import { contain } from '../contain.js';
import { acceptBackendName, LOCMEM, MEMCACHED, REDIS, setObjectBackend } from './backends.js';
import { clientKind, scopeClient, type ClientKind } from './clients.js';
import { warnOnceAbout } from './misuse.js';
import { storeClients } from './store-clients.js';
import { isTracked, wrapReads } from './track.js';

/** Any object with a `get` method: a `Map`, an `LRUCache`, a `Keyv`, a cache-manager cache. */
export interface TrackableCache {
  get(...args: never[]): unknown;
}

const KIND_BACKEND: Record<ClientKind, string> = { ioredis: REDIS, 'node-redis': REDIS, memcached: MEMCACHED };

/**
 * Counts the reads of one in-process cache object in the cache families: `get(key)`, and for
 * keyv `get([keys])`/`getMany(keys)` and cache-manager `mget(keys)` one get per key. A value
 * other than `null`/`undefined` is a hit; a thrown error or rejected promise counts in
 * `get_fail_total`. The object behaves exactly as before and is returned as is.
 *
 * `backend` defaults to `locmem`; for a keyv or cache-manager cache over a Redis or memcached
 * client, to `redis`/`memcached`. Such a client (found in the cache's `stores`, `store`,
 * `client` or `redis` properties) serves the cache: its reads are counted once, by the cache,
 * not again by the client instrumentation. Given a Redis or memcached client itself, trackCache
 * only names it, like setCacheBackend.
 */
export function trackCache<T extends TrackableCache>(instance: T, backend?: string): T {
  contain('cache trackCache', () => {
    const name = backend === undefined ? undefined : acceptBackendName(backend, 'trackCache');
    const kind = typeof instance === 'object' && instance !== null ? clientKind(instance) : undefined;
    // A Redis or memcached client is counted by its instrumentation already: only name it.
    if (kind !== undefined) return nameClient(instance, kind, name ?? KIND_BACKEND[kind]);
    if (typeof instance !== 'object' || instance === null || !wrapReads(instance)) {
      warnOnceAbout('trackCache:not-a-cache', 'trackCache: the object has no get method; not tracked');
      return;
    }
    const clients = storeClients(instance);
    for (const [client, kind] of clients) nameClient(client, kind, null);
    setObjectBackend(instance, name ?? (clients.length > 0 ? KIND_BACKEND[clients[0]![1]] : LOCMEM));
  });
  return instance;
}

/**
 * Names the `backend` label of one client's reads (default `redis` or `memcached`), or of a
 * tracked cache: an ioredis `Redis` or `Cluster`, a node-redis `createClient()` client, a
 * `memcached` client. Applies to this object only (not to its `duplicate()`s). Returns it.
 */
export function setCacheBackend<T extends object>(client: T, backend: string): T {
  contain('cache setCacheBackend', () => {
    const name = acceptBackendName(backend, 'setCacheBackend');
    if (name === undefined) return;
    if (isTracked(client)) return setObjectBackend(client, name);
    const kind = clientKind(client);
    if (kind === undefined) {
      warnOnceAbout('setCacheBackend:unsupported', 'setCacheBackend: not an ioredis, node-redis or memcached client, nor a tracked cache; ignored');
      return;
    }
    nameClient(client, kind, name);
  });
  return client;
}

/** Names a client's reads, or with `null` leaves them to the tracked cache it serves. */
function nameClient(client: object, kind: ClientKind, backend: string | null): void {
  setObjectBackend(client, backend);
  scopeClient(client, kind);
}
