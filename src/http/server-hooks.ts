import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { safe } from '../contain.js';
import { isOwnServer } from '../exposition/own-server.js';
import type { HttpRecorder } from './recorder.js';
import type { RequestState } from './request-state.js';

const complete = safe('http response close', (state: RequestState) => state.recorder.complete(state));

/**
 * Server-level request start: called by whichever hook sees the request first. The response's
 * `close` (emitted after `finish`, or alone when the connection drops) completes it exactly once.
 * Callers run it inside the containment primitive; the `close` listener contains itself, since it
 * runs later, from Node's own event emission.
 */
export function startRequest(recorder: HttpRecorder, req: IncomingMessage, res: ServerResponse): void {
  const state = recorder.start(req, res);
  // A closure per request costs less than finding the state on a framework-reprototyped response.
  if (state !== undefined) res.on('close', () => complete(state));
}

const START_CHANNEL = 'http.server.request.start';

interface StartMessage {
  request: IncomingMessage;
  response: ServerResponse;
  server: unknown;
}

/**
 * The fast path: Node's own `http.server.request.start` diagnostics channel sees every request a
 * node:http or node:https server dispatches, at the cost of one function call; nothing is wrapped.
 * (A subscriber's throw would be re-thrown by Node as an uncaught exception: hence `safe`.)
 * Returns the unsubscribe function.
 */
export function subscribeServerRequests(recorder: HttpRecorder): () => void {
  const onStart = safe('http.server.request.start subscriber', (message: unknown) => {
    const { request, response, server } = message as StartMessage;
    if (!isOwnServer(server)) startRequest(recorder, request, response);
  });
  subscribe(START_CHANNEL, onStart);
  return () => unsubscribe(START_CHANNEL, onStart);
}
