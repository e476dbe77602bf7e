// The examples' cache: Redis through ioredis when REDIS_URL is set, otherwise an in-process
// lru-cache. Either way its reads show in the django_cache_* families: ioredis is instrumented by
// the preload (backend="redis"), the in-process cache is opted in with trackCache (backend="locmem").
//
// openCache() -> { get(key) -> Promise<string|undefined>, set(key, value) -> Promise<void>, close() }
import { trackCache } from 'otel-django-metrics';

const TTL_SECONDS = 60;

export async function openCache() {
  return process.env.REDIS_URL ? openRedis(process.env.REDIS_URL) : openInProcess();
}

async function openRedis(url) {
  const { default: Redis } = await import('ioredis');
  // Fail a read quickly while Redis is away instead of queueing it.
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on('error', (err) => console.error(`cache: ${err.message}`));
  return {
    // A cache that is down is a miss for the app; the read still counts in django_cache_get_fail_total.
    get: async (key) => (await redis.get(key).catch(() => null)) ?? undefined,
    set: async (key, value) => {
      await redis.set(key, value, 'EX', TTL_SECONDS).catch(() => {});
    },
    close: async () => {
      await redis.quit();
    },
  };
}

async function openInProcess() {
  const { LRUCache } = await import('lru-cache');
  const lru = trackCache(new LRUCache({ max: 1000, ttl: TTL_SECONDS * 1000 }));
  return {
    get: async (key) => lru.get(key),
    set: async (key, value) => {
      lru.set(key, value);
    },
    close: async () => {},
  };
}
