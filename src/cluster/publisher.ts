import { contain } from '../contain.js';
import { storeChanges } from '../store/counter.js';
import type { Registry } from '../store/registry.js';
import { ownIdentity, type ProcessIdentity } from './process-identity.js';
import { StateEncoder } from './state-format.js';
import { stateFileName, writeAtomically } from './state-dir.js';

export interface PublisherOptions {
  /** How often a state that changed is written, in ms (default 1000): what a SIGKILL can lose at most. */
  intervalMs?: number;
  /**
   * A state is rewritten at least this often even when nothing was recorded (default 10000 ms), so
   * that the collected gauges of an idle process (memory, migrations) do not stay as they were.
   */
  refreshMs?: number;
}

/** This process's part in a state directory. */
export interface Publisher {
  readonly dir: string;
  readonly identity: ProcessIdentity;
  /** Writes this process's whole state now, synchronously and atomically. Never throws (a failure is logged once). */
  publishNow(): void;
  /** Stops the timer and the exit hook, after one last write. */
  stop(): void;
  /** Stops the timer and the exit hook without writing again: nobody reads the directory any more. */
  detach(): void;
}

const SITE = 'multiprocess publish';

/**
 * Publishes the state of `registry` (every store family and every collector's, as a scrape
 * collects them) under `dir`: now, then every `intervalMs` if anything was recorded since the last
 * write, and synchronously in the process's 'exit' event, which runs for `process.exit()`, the
 * end of the event loop, and a signal the app handles by exiting. Nothing here touches signals:
 * a process killed outright loses what it recorded since its last write.
 */
export function startPublisher(registry: Registry, dir: string, options: PublisherOptions = {}): Publisher {
  const { intervalMs = 1000, refreshMs = 10_000 } = options;
  const identity = ownIdentity();
  const file = stateFileName(identity.id);
  const encoder = new StateEncoder();
  let written = -1;
  let writtenAt = 0;

  const publishNow = (): void => {
    contain(SITE, () => {
      const changes = storeChanges.count;
      writeAtomically(dir, identity.id, file, encoder.encode(registry.collect()));
      written = changes;
      writtenAt = Date.now();
    });
  };

  const timer = setInterval(() => {
    if (storeChanges.count !== written || Date.now() - writtenAt >= refreshMs) publishNow();
  }, intervalMs);
  timer.unref();
  process.on('exit', publishNow);
  publishNow();

  const detach = (): void => {
    clearInterval(timer);
    process.off('exit', publishNow);
  };
  return {
    dir,
    identity,
    publishNow,
    detach,
    stop() {
      detach();
      publishNow();
    },
  };
}
