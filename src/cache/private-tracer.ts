import {
  context as otelContext,
  INVALID_SPAN_CONTEXT,
  SpanStatusCode,
  trace,
  type Context,
  type Exception,
  type Span,
  type SpanOptions,
  type SpanStatus,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { safe } from '../contain.js';
import type { Read } from './read.js';

/**
 * The span our client instrumentations get instead of a real one. It is never exported (the
 * package adds no traces, whatever TracerProvider the app registers) and keeps only what the
 * cache families need: the read it carries, the reply (response hook) and whether the command
 * failed. The instrumentations have no error hook, but they end a failed command's span with
 * `recordException` and an ERROR status. Made by `observedSpans`, which contains its `onEnd`.
 */
export class ObservedSpan implements Span {
  read: Read | undefined;
  reply: unknown;
  failed = false;
  error: unknown;

  constructor(private readonly onEnd: Settle) {}

  end(): void {
    const read = this.read;
    if (read !== undefined) this.onEnd(this, read);
  }

  setStatus(status: SpanStatus): this {
    if (status.code === SpanStatusCode.ERROR) this.failed = true;
    return this;
  }

  recordException(exception: Exception): void {
    this.failed = true;
    this.error = exception;
  }

  spanContext() {
    return INVALID_SPAN_CONTEXT;
  }
  isRecording(): boolean {
    return false;
  }
  setAttribute(): this {
    return this;
  }
  setAttributes(): this {
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  updateName(): this {
    return this;
  }
}

type Settle = (span: ObservedSpan, read: Read) => void;

/**
 * A maker of spans that settle their read with `settle` when they end. `settle` runs inside the
 * client's reply path, so it is made safe here, once for all the spans.
 */
export function observedSpans(site: string, settle: Settle): () => ObservedSpan {
  const contained = safe(site, settle);
  return () => new ObservedSpan(contained);
}

/** The response hook of our Redis instrumentations: keeps a read's reply on its span. */
export const keepReply = safe('cache response hook', (span: Span, _command: string, _args: unknown, reply: unknown): void => {
  if (span instanceof ObservedSpan) span.reply = reply;
});

/** One span for commands we do not look at: shared, records nothing. */
export const IGNORED_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

type SpanFactory = (name: string, options: SpanOptions | undefined) => Span;

/**
 * A tracer whose spans come from `create`; given to our instrumentations with `setTracerProvider`.
 * `create` is our code inside the client's call: contained, with a span that records nothing if it throws.
 */
class PrivateTracer implements Tracer {
  private readonly create: (name: string, options: SpanOptions | undefined) => Span | undefined;

  constructor(site: string, create: SpanFactory) {
    this.create = safe(site, create);
  }

  startSpan(name: string, options?: SpanOptions): Span {
    return this.create(name, options) ?? IGNORED_SPAN;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: [F] | [SpanOptions, F] | [SpanOptions, Context, F]): ReturnType<F> {
    const fn = rest[rest.length - 1] as F;
    const options = rest.length > 1 ? (rest[0] as SpanOptions) : undefined;
    const span = this.startSpan(name, options);
    return otelContext.with(trace.setSpan(otelContext.active(), span), () => fn(span)) as ReturnType<F>;
  }
}

export class PrivateTracerProvider implements TracerProvider {
  private readonly tracer: Tracer;

  /** `site` names `create` in a contained-failure line. */
  constructor(site: string, create: SpanFactory) {
    this.tracer = new PrivateTracer(site, create);
  }

  getTracer(): Tracer {
    return this.tracer;
  }
}
