import type { InstrumentationBase } from '@opentelemetry/instrumentation';
import type { InstrumentationContext } from '../instrumentation-context.js';
import { guarded } from './guard.js';
import { ioredisInstrumentations } from './ioredis.js';
import { memcachedInstrumentation } from './memcached.js';
import { nodeRedisInstrumentation } from './node-redis.js';
import { recorderFor, type CacheRecorder } from './recorder.js';

const CLIENTS: ReadonlyArray<(recorder: CacheRecorder) => InstrumentationBase[]> = [
  ioredisInstrumentations,
  (recorder) => [nodeRedisInstrumentation(recorder)],
  (recorder) => [memcachedInstrumentation(recorder)],
];

/**
 * Starts the client instrumentations of the cache families (ioredis, node-redis, memcached; the
 * in-process caches are opted in with `trackCache`). Returns the function that disables them.
 */
export function enableCacheInstrumentation(context: InstrumentationContext): () => void {
  const recorder = recorderFor(context.registry);
  const enabled: InstrumentationBase[] = [];
  for (const create of CLIENTS) {
    guarded('cache instrumentation start', () => {
      for (const instrumentation of create(recorder)) {
        instrumentation.enable();
        enabled.push(instrumentation);
      }
    });
  }
  return () => {
    for (const instrumentation of enabled) guarded('cache instrumentation stop', () => instrumentation.disable());
  };
}
