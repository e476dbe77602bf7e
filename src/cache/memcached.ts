import type { InstrumentationBase } from '@opentelemetry/instrumentation';
import { MemcachedInstrumentation } from '@opentelemetry/instrumentation-memcached';
import { safe } from '../contain.js';
import { backendFor, MEMCACHED } from './backends.js';
import { IGNORED_SPAN, PrivateTracerProvider } from './private-tracer.js';
import { Read } from './read.js';
import { safeDefinitions } from './safe-patches.js';
import type { CacheRecorder } from './recorder.js';

type WrapQueryCompiler = MemcachedInstrumentation['wrapQueryCompiler'];

/** The fields of a compiled memcached query used here (`multi` marks a `getMulti` server query). */
interface Query {
  type?: string;
  command?: string;
  multi?: boolean;
  callback?: (this: unknown, ...args: unknown[]) => unknown;
}

/**
 * memcached `get(key)` and `getMulti(keys)` via `@opentelemetry/instrumentation-memcached`. It has
 * no hooks, but its public `wrapQueryCompiler` hands over every compiled query and its client:
 * the query's callback (already wrapped to end the span) is wrapped once more to see `(err, data)`.
 */
class MemcachedReads extends MemcachedInstrumentation {
  constructor(private readonly recorder: CacheRecorder) {
    super({ enabled: false });
  }

  override init() {
    return safeDefinitions(super.init());
  }

  override wrapQueryCompiler(...args: Parameters<WrapQueryCompiler>): ReturnType<WrapQueryCompiler> {
    const compile = super.wrapQueryCompiler(...args);
    const client = args[1];
    const recorder = this.recorder;
    return function (this: ThisParameterType<typeof compile>) {
      const query = compile.call(this);
      observe(recorder, client, query as Query);
      return query;
    };
  }
}

/** Wraps a compiled read query's callback to settle its read with the client's `(err, data)`. */
const observe = safe('cache memcached query', (recorder: CacheRecorder, client: object, query: Query): void => {
  const callback = query.callback;
  if (query.type !== 'get' || typeof callback !== 'function') return;
  const backend = backendFor(client, MEMCACHED);
  if (backend === null) return;
  // A getMulti query carries the keys of one server: `get k1 k2 ...` (keys never contain spaces).
  const keys = query.multi ? (query.command ?? '').split(' ').length - 1 : 1;
  if (keys < 1) return;
  const multi = query.multi === true;
  const read = new Read(recorder, backend, keys, multi);
  query.callback = function (this: unknown) {
    settle(read, multi, arguments[0], arguments[1]);
    return callback.apply(this, arguments as unknown as unknown[]);
  };
});

const settle = safe('cache memcached reply', (read: Read, multi: boolean, err: unknown, data: unknown): void => {
  if (err) read.fail();
  else read.answer(multi ? multiValues(data) : data);
});

/** A getMulti server reply: `{ key: value }` objects, one or an array of them, one entry per key found. */
function multiValues(data: unknown): unknown[] {
  const parts = Array.isArray(data) ? data : [data];
  return parts.flatMap((part) => (typeof part === 'object' && part !== null ? Object.values(part) : []));
}

export function memcachedInstrumentation(recorder: CacheRecorder): InstrumentationBase {
  const instrumentation = new MemcachedReads(recorder);
  // Its spans are never exported: a shared non-recording span serves every command.
  instrumentation.setTracerProvider(new PrivateTracerProvider('cache memcached span start', () => IGNORED_SPAN));
  return instrumentation;
}
