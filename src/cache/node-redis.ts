import type { InstrumentationBase } from '@opentelemetry/instrumentation';
import { RedisInstrumentation } from '@opentelemetry/instrumentation-redis';
import { safe } from '../contain.js';
import { backendFor, REDIS } from './backends.js';
import { IGNORED_SPAN, keepReply, observedSpans, PrivateTracerProvider } from './private-tracer.js';
import { Read, readKeys } from './read.js';
import type { CacheRecorder } from './recorder.js';

/**
 * node-redis 4/5 (`@redis/client`) `get`/`GET`/`sendCommand(['GET', k])` and `mGet`, directly,
 * in `multi()` transactions and `execAsPipeline()`, via `@opentelemetry/instrumentation-redis`.
 * Its spans end with the command's own reply (for MULTI, its entry of EXEC's reply) through the
 * response hook, or with an ERROR status on failure.
 */
export function nodeRedisInstrumentation(recorder: CacheRecorder): InstrumentationBase {
  // The instrumentation has no request hook, but for each command it calls the statement
  // serializer (with the arguments) and then, in the same synchronous call, starts the span.
  let next: { keys: number; many: boolean } | undefined;
  const identify = safe('cache node-redis request', (name: unknown, args: unknown[]) => readKeys(String(name), args.length));

  const readSpan = observedSpans('cache node-redis reply', (ended, read) => (ended.failed ? read.fail() : read.answer(ended.reply)));
  const startSpan = () => {
    const shape = next;
    next = undefined;
    if (shape === undefined) return IGNORED_SPAN;
    const backend = backendFor(undefined, REDIS);
    if (backend === null) return IGNORED_SPAN;
    const span = readSpan();
    span.read = new Read(recorder, backend, shape.keys, shape.many);
    return span;
  };

  const instrumentation = new RedisInstrumentation({
    enabled: false,
    requireParentSpan: false,
    dbStatementSerializer: (name, args) => {
      next = identify(name, args);
      return String(name); // never exported: do not build the statement
    },
    responseHook: keepReply,
  });
  instrumentation.setTracerProvider(new PrivateTracerProvider('cache node-redis span start', startSpan));
  return instrumentation;
}
