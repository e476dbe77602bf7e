import { safe } from '../contain.js';
import type { Disable } from '../otel/package-loads.js';

/**
 * The messages between a node:cluster primary and its workers. Node delivers an IPC message whose
 * `cmd` starts with `NODE_` as an 'internalMessage' event instead of 'message' (cluster's own
 * `NODE_CLUSTER` messages travel so, and cluster ignores other commands): the app's own
 * `process.on('message')`, `worker.on('message')` and `cluster.on('message')` listeners never
 * see ours, whatever they do with unknown messages.
 */
const CMD = 'NODE_OTEL_DJANGO_METRICS';

export type ClusterMessage =
  /** worker -> primary: its publisher runs, so it answers `publish`. */
  | { op: 'ready' }
  /** primary -> worker: write your state now; worker -> primary: done. */
  | { op: 'publish' | 'published'; id: number }
  /** worker -> primary: have every process publish now (a worker serves a merged scrape); primary -> worker: done. */
  | { op: 'flush' | 'flushed'; id: number };

type Envelope = ClusterMessage & { cmd: typeof CMD };

/** The end of an IPC channel: `process` in a worker, a worker's `ChildProcess` in the primary. */
export interface Channel {
  readonly connected: boolean;
  send?(message: unknown, sendHandle: undefined, options: object, callback: (error: Error | null) => void): boolean;
  on(event: 'internalMessage', listener: (message: unknown) => void): unknown;
  off(event: 'internalMessage', listener: (message: unknown) => void): unknown;
}

const ignore = (): void => {};

/**
 * Sends a message if the channel is open. The callback makes a closed or failing channel an
 * ignored result: without one Node emits 'error' on `process`, which would crash the app.
 */
export function sendMessage(channel: Channel, message: ClusterMessage): void {
  if (!channel.connected || channel.send === undefined) return;
  channel.send({ ...message, cmd: CMD } satisfies Envelope, undefined, {}, ignore);
}

/**
 * Calls `onMessage` with each of our messages arriving on `channel`, contained (it runs in Node's
 * emit of the channel's event, where a throw would be the app's uncaught exception). Returns the
 * removal.
 */
export function onMessages(channel: Channel, site: string, onMessage: (message: ClusterMessage) => void): Disable {
  const listener = safe(site, (message: unknown) => {
    if ((message as Partial<Envelope> | null)?.cmd === CMD) onMessage(message as Envelope);
  });
  channel.on('internalMessage', listener);
  return () => void channel.off('internalMessage', listener);
}
