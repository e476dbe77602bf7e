import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { safe } from '../contain.js';
import { isOwnServer } from '../exposition/own-server.js';

/** Published by `net.Server` once it listens (Node 22.3, backported to late 20.x); without it, never called. */
const LISTENING = 'tracing:net.server.listen:asyncEnd';

/**
 * Calls `then` once, on the event-loop turn after the app's first server (any but the package's
 * own metrics server) starts listening: the app is up, and work done then no longer delays it.
 * Returns the function that stops waiting.
 */
export function whenAppListens(then: () => void): () => void {
  // Node re-throws a subscriber's throw as an uncaught exception: hence `safe`.
  const onListening = safe('net.server.listen subscriber', (message: unknown): void => {
    if (isOwnServer((message as { server?: unknown }).server)) return;
    stop();
    setImmediate(then);
  });
  const stop = (): void => {
    unsubscribe(LISTENING, onListening);
  };
  subscribe(LISTENING, onListening);
  return stop;
}
