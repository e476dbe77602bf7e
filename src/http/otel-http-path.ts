import type { MeterProvider, Span } from '@opentelemetry/api';
import { createRequire } from 'node:module';
import { IncomingMessage, ServerResponse } from 'node:http';
import { safe } from '../contain.js';
import { isOwnServer } from '../exposition/own-server.js';
import type { HttpRecorder } from './recorder.js';
import { startRequest } from './server-hooks.js';

const require = createRequire(import.meta.url);

/**
 * The instrumentation-http path, for users who also want traces: `@opentelemetry/instrumentation-http`
 * wraps every server `request` emit (span, context) and hands us the response through its
 * `responseHook`; from there the same recorder as the fast path takes over. Returns `disable`.
 */
export function enableOtelHttpPath(recorder: HttpRecorder, meterProvider: MeterProvider): () => void {
  // require: an ES module import of this CommonJS package would also parse it for its export names.
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const instrumentation = new HttpInstrumentation({
    ignoreIncomingRequestHook: (req) => isOwnServer((req.socket as { server?: unknown } | null)?.server),
    responseHook: safe('instrumentation-http responseHook', (_span: Span, response: IncomingMessage | ServerResponse) => {
      if (response instanceof ServerResponse) startRequest(recorder, response.req, response);
    }),
  });
  instrumentation.setMeterProvider(meterProvider);
  instrumentation.enable();
  // Core modules are patched when next required; do it now so the app's first server is covered.
  require('node:http');
  require('node:https');
  return () => instrumentation.disable();
}
