import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isOwnServer } from '../exposition/own-server.js';
import type { HttpRecorder } from './recorder.js';

/**
 * Server-level request start: called by whichever hook sees the request first. The response's
 * `close` (emitted after `finish`, or alone when the connection drops) completes it exactly once.
 */
export function startRequest(recorder: HttpRecorder, req: IncomingMessage, res: ServerResponse): void {
  const state = recorder.start(req, res);
  // A closure per request costs less than finding the state on a framework-reprototyped response.
  if (state !== undefined) res.on('close', () => recorder.complete(state));
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
 * Returns the unsubscribe function.
 */
export function subscribeServerRequests(recorder: HttpRecorder): () => void {
  const onStart = (message: unknown) => {
    const { request, response, server } = message as StartMessage;
    if (!isOwnServer(server)) startRequest(recorder, request, response);
  };
  subscribe(START_CHANNEL, onStart);
  return () => unsubscribe(START_CHANNEL, onStart);
}
