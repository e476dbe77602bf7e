import type { InstrumentationBase } from '@opentelemetry/instrumentation';
import { createRequire } from 'node:module';
import { contain } from '../contain.js';
import type { InstrumentationContext } from '../instrumentation-context.js';
import { recorderFor, type CacheRecorder } from './recorder.js';

// A client's instrumentation loads with the client (src/otel/package-loads.ts): require, to do it synchronously.
const require = createRequire(import.meta.url);

/** Each client's packages, and its instrumentations' loader. */
const CLIENTS: ReadonlyArray<[packages: string[], load: (recorder: CacheRecorder) => InstrumentationBase[]]> = [
  [['ioredis'], (recorder) => (require('./ioredis.js') as typeof import('./ioredis.js')).ioredisInstrumentations(recorder)],
  [['redis', '@redis/client', '@node-redis/client'], (recorder) => [(require('./node-redis.js') as typeof import('./node-redis.js')).nodeRedisInstrumentation(recorder)]],
  [['memcached'], (recorder) => [(require('./memcached.js') as typeof import('./memcached.js')).memcachedInstrumentation(recorder)]],
];

/**
 * Starts the client instrumentations of the cache families (ioredis, node-redis, memcached; the
 * in-process caches are opted in with `trackCache`). Returns the function that disables them.
 */
export function enableCacheInstrumentation(context: InstrumentationContext): () => void {
  const recorder = recorderFor(context.registry);
  const disables = CLIENTS.map(([packages, load]) =>
    context.activate(packages, () => {
      const enabled: InstrumentationBase[] = [];
      contain('cache instrumentation start', () => {
        for (const instrumentation of load(recorder)) {
          instrumentation.enable();
          enabled.push(instrumentation);
        }
      });
      return () => {
        for (const instrumentation of enabled) contain('cache instrumentation stop', () => instrumentation.disable());
      };
    }),
  );
  return () => disables.forEach((disable) => disable());
}
