import type { InstrumentationBase } from '@opentelemetry/instrumentation';
import { RedisInstrumentation } from '@opentelemetry/instrumentation-redis';
import { backendFor, REDIS } from './backends.js';
import { guarded } from './guard.js';
import { IGNORED_SPAN, ObservedSpan, PrivateTracerProvider } from './private-tracer.js';
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

  const startSpan = () =>
    guarded('node-redis span start', () => {
      const shape = next;
      next = undefined;
      if (shape === undefined) return IGNORED_SPAN;
      const backend = backendFor(undefined, REDIS);
      if (backend === null) return IGNORED_SPAN;
      const span = new ObservedSpan((ended, read) => (ended.failed ? read.fail() : read.answer(ended.reply)));
      span.read = new Read(recorder, backend, shape.keys, shape.many);
      return span;
    }) ?? IGNORED_SPAN;

  const instrumentation = new RedisInstrumentation({
    enabled: false,
    requireParentSpan: false,
    dbStatementSerializer: (name, args) => {
      next = guarded('node-redis request', () => readKeys(String(name), args.length));
      return String(name); // never exported: do not build the statement
    },
    responseHook: (span, _name, _args, reply) => {
      if (span instanceof ObservedSpan) span.reply = reply;
    },
  });
  instrumentation.setTracerProvider(new PrivateTracerProvider(startSpan));
  return instrumentation;
}
