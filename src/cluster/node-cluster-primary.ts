import cluster, { type Worker } from 'node:cluster';
import { contain, safe } from '../contain.js';
import type { Disable } from '../otel/package-loads.js';
import { onMessages, sendMessage } from './node-cluster-ipc.js';

export interface PrimaryOptions {
  /** Writes the primary's own state (a worker serving a merged scrape reads it from the directory). */
  publishOwn(): void;
  /** Told how many workers a flush gave up on (their last published state is used). */
  onTimeouts(count: number): void;
  /** Called once, when the app forks its first worker: the primary is one of several processes from then on. */
  onFirstWorker(): void;
  /** How long a flush waits for all workers, in ms. */
  timeoutMs: number;
}

export interface ClusterPrimary {
  /**
   * Has every live worker write its state now, and resolves once all have (or exited), or after
   * the bound, counting those that did not as timeouts.
   */
  flush(): Promise<void>;
  stop: Disable;
}

const SITE = 'node:cluster primary';

/** One flush in progress: the workers it still waits for. */
interface Pending {
  readonly waiting: Set<Worker>;
  readonly done: () => void;
}

/**
 * The primary's side of node:cluster publication. It follows every worker the app forks; a
 * worker whose preload runs says `ready`, and from then on answers each `publish` after its
 * synchronous write. A worker asking for a `flush` (its in-app handler serves a merged scrape)
 * gets one, its own included, and then `flushed`.
 */
export function startClusterPrimary(options: PrimaryOptions): ClusterPrimary {
  const ready = new WeakSet<Worker>();
  const pending = new Map<number, Pending>();
  /** Per followed worker, what stops following it. */
  const followed = new Set<Disable>();
  let forked = false;
  let lastId = 0;

  const settle = (worker: Worker, id?: number) => {
    for (const [key, p] of pending) {
      if (id !== undefined && key !== id) continue;
      p.waiting.delete(worker);
      if (p.waiting.size === 0) p.done();
    }
  };

  const flush = (): Promise<void> => {
    const id = ++lastId;
    // Workers leave `cluster.workers` once exited and disconnected; one disconnecting still has its
    // last write (at its exit) to make, so it is waited for as well, by its exit.
    const waiting = new Set(Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && ready.has(w) && !w.isDead()));
    if (waiting.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        contain(SITE, () => options.onTimeouts(waiting.size));
        done();
      }, options.timeoutMs).unref();
      const done = () => {
        clearTimeout(timer);
        pending.delete(id);
        resolve();
      };
      pending.set(id, { waiting, done });
      for (const worker of waiting) sendMessage(worker.process, { op: 'publish', id });
    });
  };

  // Runs inside the app's cluster.fork(): contained, so that the fork goes on whatever happens here.
  const onFork = safe(SITE, (worker: Worker) => {
    if (!forked) {
      forked = true;
      options.onFirstWorker();
    }
    const stopListening = onMessages(worker.process, SITE, (message) => {
      if (message.op === 'ready') ready.add(worker);
      else if (message.op === 'published') settle(worker, message.id);
      else if (message.op === 'flush') {
        options.publishOwn();
        void flush().then(() => contain(SITE, () => sendMessage(worker.process, { op: 'flushed', id: message.id })));
      }
    });
    const onExit = safe(SITE, () => {
      forget();
      settle(worker);
    });
    const forget = () => {
      stopListening();
      worker.process.off('exit', onExit);
      followed.delete(forget);
    };
    worker.process.once('exit', onExit);
    followed.add(forget);
  });
  cluster.on('fork', onFork);

  return {
    flush,
    stop: () => {
      cluster.off('fork', onFork);
      for (const forget of followed) forget();
      for (const p of pending.values()) p.done();
    },
  };
}
