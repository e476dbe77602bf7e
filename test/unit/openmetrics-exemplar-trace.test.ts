import { context, trace, TraceFlags, type Context, type ContextManager } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AlwaysOffSampler, AlwaysOnSampler, BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, test } from 'vitest';
import { setContainmentLog } from '../../src/contain.js';
import { sampledTrace } from '../../src/http/exemplar.js';

/** Runs `fn` inside an active span of a tracer that samples (or not) every span. */
function inSpan<T>(sampled: boolean, fn: () => T): T {
  const provider = new BasicTracerProvider({ sampler: sampled ? new AlwaysOnSampler() : new AlwaysOffSampler() });
  return provider.getTracer('test').startActiveSpan('work', (span) => {
    try {
      return fn();
    } finally {
      span.end();
    }
  });
}

describe('the trace an exemplar points to: the sampled span active when a response completes', () => {
  afterEach(() => context.disable());

  test('no context manager registered: no trace, and nothing is asked', () => {
    expect(sampledTrace()).toBeUndefined();
  });

  test('under a sampled span: its ids and the time, 63 characters of labels', () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const before = Date.now() / 1000;
    const [ids, traced] = inSpan(true, () => [trace.getActiveSpan()!.spanContext(), sampledTrace()] as const);
    expect(traced?.labels).toEqual({ trace_id: ids.traceId, span_id: ids.spanId });
    expect(traced!.timestamp).toBeGreaterThanOrEqual(before);
    expect(traced!.timestamp).toBeLessThanOrEqual(Date.now() / 1000);
    expect(Object.entries(traced!.labels).flat().join('')).toHaveLength(63);
  });

  test('a span carries across awaits (the context manager follows the async work)', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const provider = new BasicTracerProvider({ sampler: new AlwaysOnSampler() });
    const [spanId, traced] = await provider.getTracer('test').startActiveSpan('work', async (span) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      span.end();
      return [span.spanContext().spanId, sampledTrace()] as const;
    });
    expect(traced?.labels.span_id).toBe(spanId);
  });

  test('an unsampled span, a propagated unsampled context, or no span at all: no trace', () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    expect(inSpan(false, () => sampledTrace())).toBeUndefined();
    const upstream = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.NONE };
    expect(context.with(trace.setSpanContext(context.active(), upstream), () => sampledTrace())).toBeUndefined();
    expect(context.with(trace.setSpanContext(context.active(), { ...upstream, traceFlags: TraceFlags.SAMPLED }), () => sampledTrace())?.labels).toEqual({
      trace_id: upstream.traceId,
      span_id: upstream.spanId,
    });
    expect(sampledTrace()).toBeUndefined();
  });

  test("an app's context manager that throws costs the exemplar only, reported once (ODM001)", () => {
    const log: string[] = [];
    setContainmentLog((line) => log.push(line));
    const broken: ContextManager = {
      active(): Context {
        throw new Error('broken context manager');
      },
      with: (_ctx, fn, thisArg, ...args) => fn.call(thisArg, ...args),
      bind: (_ctx, target) => target,
      enable() {
        return this;
      },
      disable() {
        return this;
      },
    };
    context.setGlobalContextManager(broken);
    expect(sampledTrace()).toBeUndefined();
    expect(sampledTrace()).toBeUndefined();
    expect(log).toEqual(['ODM001 exemplar trace context failed; the measurement is dropped and the app is unaffected: Error: broken context manager']);
  });
});
