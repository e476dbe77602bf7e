import { clientKind, type ClientKind } from './clients.js';

/**
 * The instrumented clients a cache object reads through, found by the shapes of cache-manager
 * (`stores`: keyv instances), keyv (`store`: its adapter) and store adapters (`client`, as in
 * @keyv/redis 4+, or `redis`, as in @keyv/redis 2). Such a client serves the tracked cache: its
 * reads are the cache's lookups, counted once by the cache (the outermost API).
 */
export function storeClients(cache: object): Array<[object, ClientKind]> {
  const found: Array<[object, ClientKind]> = [];
  const seen = new Set<object>([cache]);
  const visit = (target: object, depth: number): void => {
    const kind = clientKind(target);
    if (kind !== undefined) {
      found.push([target, kind]);
      return;
    }
    if (depth >= 3) return;
    for (const inner of innerObjects(target)) {
      if (seen.has(inner)) continue;
      seen.add(inner);
      visit(inner, depth + 1);
    }
  };
  for (const inner of innerObjects(cache)) visit(inner, 1);
  return found;
}

function innerObjects(target: object): object[] {
  const o = target as Record<string, unknown>;
  const inner: unknown[] = Array.isArray(o.stores) ? [...(o.stores as unknown[])] : [];
  for (const key of ['store', 'client', 'redis']) inner.push(o[key]);
  return inner.filter((v): v is object => typeof v === 'object' && v !== null);
}
