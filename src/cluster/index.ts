import type { InstrumentationContext } from '../instrumentation-context.js';
import type { FamilySnapshot } from '../store/snapshot.js';
import { mergedCollector } from './collector.js';
import { startPublisher } from './publisher.js';
import { PublishTimeouts } from './self-metrics.js';

export { mergedCollector, type MergedCollector, type MergedCollectorOptions } from './collector.js';
export { startPublisher, type Publisher, type PublisherOptions } from './publisher.js';
export { PublishTimeouts } from './self-metrics.js';

/** A process's part in multi-process mode, as the composition root uses it. */
export interface MultiProcess {
  /** What a scrape writes: the merge of every process's state. */
  collect(): Promise<Iterable<FamilySnapshot>>;
  /** Whether this process serves the dedicated metrics endpoint when one is configured. */
  readonly dedicatedServer: boolean;
  /** Publishes one last time and stops publishing. */
  stop(): void;
}

/**
 * Multi-process mode, when configured: `undefined` leaves the process on its own (its scrape is
 * its registry). With PROMETHEUS_MULTIPROC_DIR every process publishes its state in that
 * directory, and any of them that serves a scrape (dedicated endpoint or in-app handler) returns
 * the merge of all.
 */
export function startMultiProcess(context: Pick<InstrumentationContext, 'config' | 'registry' | 'log'>): MultiProcess | undefined {
  const dir = context.config.multiprocDir;
  if (dir === undefined) return undefined;
  const timeouts = new PublishTimeouts();
  const removeCollector = context.registry.addCollector('multiprocess', timeouts.collector);
  const publisher = startPublisher(context.registry, dir);
  const merged = mergedCollector(dir, { own: publisher, log: context.log });
  return {
    collect: () => merged.collect(),
    dedicatedServer: true,
    stop() {
      publisher.stop();
      removeCollector();
    },
  };
}
