import type { SpanOptions } from '@opentelemetry/api';
import type { InstrumentationBase } from '@opentelemetry/instrumentation';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { backendFor, REDIS } from './backends.js';
import { guarded } from './guard.js';
import { IORedisTransactions } from './ioredis-transactions.js';
import { IGNORED_SPAN, ObservedSpan, PrivateTracerProvider } from './private-tracer.js';
import { Read, readKeys } from './read.js';
import type { CacheRecorder } from './recorder.js';
import { safeDefinitions } from './safe-patches.js';

/**
 * ioredis passes one command through `sendCommand` again when it leaves the offline queue, is
 * resent after a reconnect or follows a Cluster redirect. Each pass starts a span and wraps the
 * command's resolve/reject; the command keeps its args array, which carries its read under this
 * symbol (a WeakMap costs microseconds per read in ephemeron GC). Once the read is settled, the
 * same array may serve a new command.
 */
const READ = Symbol('otel-django-metrics.read');
type CarriesRead = { [READ]?: Read };

/** Errors after which ioredis's Cluster sends the same command again (to another node, or later). */
const REDIRECT = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) /;

/**
 * ioredis `get`/`getBuffer` (both send GET) and `mget`, directly, in pipelines and through a
 * Cluster, via `@opentelemetry/instrumentation-ioredis`: its request hook identifies the read,
 * its response hook gives the reply, the span's ERROR status tells a failure.
 */
export function ioredisInstrumentations(recorder: CacheRecorder): InstrumentationBase[] {
  const settle = (span: ObservedSpan, read: Read): void => {
    if (span.failed) {
      // A redirected command ends its first span with the redirect error and, if the retry succeeds,
      // again with the reply: only a final outcome settles the read.
      if (REDIRECT.test(String((span.error as Error | undefined)?.message))) {
        span.failed = false;
        return;
      }
      read.fail();
    } else {
      read.answer(span.reply);
    }
  };

  const instrumentation = new IORedisReads({
    enabled: false,
    requireParentSpan: false, // reads outside a request count too
    dbStatementSerializer: (name) => name, // the statement is never exported: do not build it
    requestHook: (span, { cmdName, cmdArgs }) => {
      if (!(span instanceof ObservedSpan)) return; // not a read
      guarded('ioredis request hook', () => {
        const shape = readKeys(cmdName, cmdArgs.length);
        if (shape === undefined || (cmdArgs as CarriesRead)[READ]?.settled === false) return;
        const backend = backendFor(undefined, REDIS);
        if (backend === null) return;
        span.read = (cmdArgs as CarriesRead)[READ] = new Read(recorder, backend, shape.keys, shape.many);
      });
    },
    responseHook: (span, _name, _args, reply) => {
      if (span instanceof ObservedSpan) span.reply = reply;
    },
  });
  // Spans for reads only (the span name is the command). A GET queued in a MULTI has its own
  // reply `QUEUED` (its value comes with EXEC): IORedisTransactions counts those.
  const startSpan = (name: string, options: SpanOptions | undefined) =>
    readKeys(name, 1) === undefined || String(options?.attributes?.['db.operation.name']).startsWith('MULTI ') ? IGNORED_SPAN : new ObservedSpan(settle);
  instrumentation.setTracerProvider(new PrivateTracerProvider(startSpan));
  return [instrumentation, new IORedisTransactions(recorder)];
}

/** The stock instrumentation, with patches that can never fail the app's import. */
class IORedisReads extends IORedisInstrumentation {
  override init() {
    return safeDefinitions(super.init());
  }
}
