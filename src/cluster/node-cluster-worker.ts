import { contain } from '../contain.js';
import type { Disable } from '../otel/package-loads.js';
import { onMessages, sendMessage } from './node-cluster-ipc.js';

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
 * its `publish` requests after writing its state (`publishNow`, synchronous) and turns its own
 * flush requests into `flush` messages.
 */
export function startClusterWorker(publishNow: () => void, timeoutMs: number): ClusterWorker {
  const waiting = new Map<number, () => void>();
  let lastId = 0;
  const stop = onMessages(process, SITE, (message) => {
    if (message.op === 'publish') {
      publishNow();
      sendMessage(process, { op: 'published', id: message.id });
    } else if (message.op === 'flushed') {
      waiting.get(message.id)?.();
    }
  });
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
      stop();
      for (const done of waiting.values()) done();
    },
  };
}
