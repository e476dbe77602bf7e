import type { SpanOptions } from '@opentelemetry/api';
import type { InstrumentationBase, InstrumentationModuleDefinition } from '@opentelemetry/instrumentation';
import { IORedisInstrumentation, type IORedisRequestHookInformation } from '@opentelemetry/instrumentation-ioredis';
import { safe } from '../contain.js';
import { backendFor, REDIS } from './backends.js';
import { seeingEarlyRejections, type SendCommand } from './ioredis-early-rejections.js';
import { IORedisTransactions } from './ioredis-transactions.js';
import { IGNORED_SPAN, keepReply, ObservedSpan, observedSpans, PrivateTracerProvider } from './private-tracer.js';
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
 * its response hook gives the reply, the span's ERROR status tells a failure; a read rejected
 * before it is sent fails through `seeingEarlyRejections`.
 */
export function ioredisInstrumentations(recorder: CacheRecorder): InstrumentationBase[] {
  const readSpan = observedSpans('cache ioredis reply', (span, read) => {
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
  });

  const instrumentation = new IORedisReads(
    {
      enabled: false,
      requireParentSpan: false, // reads outside a request count too
      dbStatementSerializer: (name) => name, // the statement is never exported: do not build it
      requestHook: safe('cache ioredis request hook', (span, { cmdName, cmdArgs }: IORedisRequestHookInformation) => {
        if (!(span instanceof ObservedSpan)) return; // not a read
        const shape = readKeys(cmdName, cmdArgs.length);
        if (shape === undefined || (cmdArgs as CarriesRead)[READ]?.settled === false) return;
        const backend = backendFor(undefined, REDIS);
        if (backend === null) return;
        span.read = (cmdArgs as CarriesRead)[READ] = new Read(recorder, backend, shape.keys, shape.many);
      }),
      responseHook: keepReply,
    },
    safe('cache ioredis early rejection', (args: unknown[]) => (args as CarriesRead)[READ]?.fail()),
  );
  // Spans for reads only (the span name is the command). A GET queued in a MULTI has its own
  // reply `QUEUED` (its value comes with EXEC): IORedisTransactions counts those.
  const startSpan = (name: string, options: SpanOptions | undefined) =>
    readKeys(name, 1) === undefined || String(options?.attributes?.['db.operation.name']).startsWith('MULTI ') ? IGNORED_SPAN : readSpan();
  instrumentation.setTracerProvider(new PrivateTracerProvider('cache ioredis span start', startSpan));
  return [instrumentation, new IORedisTransactions(recorder)];
}

type RedisClass = { prototype: { sendCommand: SendCommand } };

/**
 * The stock instrumentation, with patches that can never fail the app's import, and an outer
 * wrapper of `sendCommand` (over the stock one) that sees reads rejected while being sent.
 */
class IORedisReads extends IORedisInstrumentation {
  /** Our outer `sendCommand` wrappers, each to the function it wraps. */
  private readonly outer = new WeakMap<SendCommand, SendCommand>();

  constructor(
    config: ConstructorParameters<typeof IORedisInstrumentation>[0],
    private readonly rejectedEarly: (args: unknown[]) => void,
  ) {
    super(config);
  }

  override init() {
    const definitions: InstrumentationModuleDefinition[] = super.init();
    for (const definition of definitions) {
      const { patch, unpatch } = definition;
      // The stock patch unwraps whatever wraps `sendCommand`: ours goes first, and comes back after it.
      definition.patch = (exports, version) => {
        this.unwrapOuter(exports);
        const patched = patch?.(exports, version);
        this.wrapOuter(exports);
        return patched;
      };
      definition.unpatch = (exports, version) => {
        this.unwrapOuter(exports);
        unpatch?.(exports, version);
      };
    }
    return safeDefinitions(definitions) as ReturnType<IORedisInstrumentation['init']>;
  }

  // Not `_wrap`: it would unwrap the stock wrapper first.
  private wrapOuter(exports: unknown): void {
    const { prototype } = exports as RedisClass;
    const inner = prototype.sendCommand;
    const outer = seeingEarlyRejections(inner, this.rejectedEarly);
    this.outer.set(outer, inner);
    prototype.sendCommand = outer;
  }

  private unwrapOuter(exports: unknown): void {
    const prototype = (exports as Partial<RedisClass> | undefined)?.prototype;
    const inner = prototype === undefined ? undefined : this.outer.get(prototype.sendCommand);
    if (inner !== undefined) prototype!.sendCommand = inner;
  }
}
