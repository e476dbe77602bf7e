import cluster from 'node:cluster';
import { contain, safe } from '../contain.js';
import type { Disable } from '../otel/package-loads.js';
import { onMessages, sendMessage } from './node-cluster-ipc.js';
import type { Publisher } from './publisher.js';

export interface ClusterWorker {
  /**
   * Asks the primary to have every process publish now (before this worker serves a merged
   * scrape); resolves when it has, or after `timeoutMs` (a busy or gone primary: the states as
   * they are then).
   */
  flush(): Promise<void>;
  stop: Disable;
}

const SITE = 'node:cluster worker';

/**
 * A worker's side of node:cluster publication: says `ready` to the primary, then answers each of
 * its `publish` requests after writing its state (synchronously) and turns its own flush requests
 * into `flush` messages. When the primary dies the worker stops publishing: the primary removed
 * the directory as it exited, and cluster exits the worker as the channel closes.
 */
export function startClusterWorker(publisher: Pick<Publisher, 'publishNow' | 'detach'>, timeoutMs: number): ClusterWorker {
  const waiting = new Map<number, () => void>();
  let lastId = 0;
  const stopListening = onMessages(process, SITE, (message) => {
    if (message.op === 'publish') {
      publisher.publishNow();
      sendMessage(process, { op: 'published', id: message.id });
    } else if (message.op === 'flushed') {
      waiting.get(message.id)?.();
    }
  });
  // Before cluster's own listener, which exits the process. `exitedAfterDisconnect` is set when
  // the primary disconnects the worker itself (its last write then counts).
  const onDisconnect = safe(SITE, () => {
    if (!cluster.worker?.exitedAfterDisconnect) publisher.detach();
  });
  process.prependListener('disconnect', onDisconnect);
  sendMessage(process, { op: 'ready' });

  return {
    flush() {
      if (!process.connected) return Promise.resolve();
      const id = ++lastId;
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs).unref();
        waiting.set(id, done);
        contain(SITE, () => sendMessage(process, { op: 'flush', id }));
      });
    },
    stop() {
      stopListening();
      process.off('disconnect', onDisconnect);
      for (const done of waiting.values()) done();
    },
  };
}
