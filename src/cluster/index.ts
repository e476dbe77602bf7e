import type { InstrumentationContext } from '../instrumentation-context.js';
import type { FamilySnapshot } from '../store/snapshot.js';
import { mergedCollector } from './collector.js';
import { startNodeCluster } from './node-cluster.js';
import { startPublisher, type Publisher } from './publisher.js';
import { PublishTimeouts } from './self-metrics.js';

export { mergedCollector, type MergedCollector, type MergedCollectorOptions } from './collector.js';
export { startPublisher, type Publisher, type PublisherOptions } from './publisher.js';
export { PublishTimeouts } from './self-metrics.js';

type Context = Pick<InstrumentationContext, 'config' | 'registry' | 'log'>;

/** A process's part in multi-process mode, as the composition root uses it. */
export interface MultiProcess {
  /** What a scrape writes: the merge of every process's state. */
  collect(): Promise<Iterable<FamilySnapshot>>;
  /**
   * What the dedicated metrics endpoint serves when one is configured: the merge, this process's
   * own values (a per-process port of a port range), or nothing (a node:cluster worker: its
   * primary serves the merge).
   */
  readonly dedicatedServer: 'merged' | 'own' | 'none';
  /** Publishes one last time and stops publishing. */
  stop(): void;
}

/** This process taking part in a state directory: it publishes there, and its scrape is the directory's merge. */
export interface StateDirPart {
  readonly publisher: Publisher;
  /** Counts the processes a scrape could not wait for. */
  readonly timeouts: PublishTimeouts;
  collect(): Promise<FamilySnapshot[]>;
  /** Publishes one last time and stops publishing. */
  stop(): void;
}

export function joinStateDir(context: Context, dir: string): StateDirPart {
  const timeouts = new PublishTimeouts();
  const removeCollector = context.registry.addCollector('multiprocess', timeouts.collector);
  const publisher = startPublisher(context.registry, dir);
  const merged = mergedCollector(dir, { own: publisher, log: context.log });
  return {
    publisher,
    timeouts,
    collect: () => merged.collect(),
    stop() {
      publisher.stop();
      removeCollector();
    },
  };
}

/**
 * Multi-process mode, when configured: `undefined` leaves the process on its own (its scrape is
 * its registry). A node:cluster app whose primary runs the preload needs no setting (see
 * startNodeCluster). With PROMETHEUS_MULTIPROC_DIR every process publishes its state in that
 * directory, and any of them that serves a scrape (dedicated endpoint or in-app handler) returns
 * the merge of all.
 */
export function startMultiProcess(context: Context): MultiProcess | undefined {
  const join = (dir: string) => joinStateDir(context, dir);
  const nodeCluster = startNodeCluster(context, join);
  if (nodeCluster !== undefined) return nodeCluster;
  const dir = context.config.multiprocDir;
  if (dir === undefined) return undefined;
  const part = join(dir);
  return { collect: part.collect, dedicatedServer: 'merged', stop: part.stop };
}
