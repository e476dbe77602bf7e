import type { InstrumentationContext } from '../instrumentation-context.js';
import type { MultiProcess, StateDirPart } from './index.js';
import { startClusterPrimary } from './node-cluster-primary.js';
import { clusterRole } from './node-cluster-role.js';
import { startClusterWorker } from './node-cluster-worker.js';

/** How long a scrape waits for the workers' fresh states; then it merges their last published ones. */
const FLUSH_TIMEOUT_MS = 1000;
/** A worker serving a merged scrape waits for the primary's flush, a little longer than the primary waits. */
const WORKER_FLUSH_TIMEOUT_MS = 1500;

type Context = Pick<InstrumentationContext, 'config' | 'registry'>;
/** Makes this process take part in the state directory `dir`. */
type Join = (dir: string) => StateDirPart;

/**
 * node:cluster with the preload in the primary, zero configuration: the workers publish their
 * state in the primary's directory and start no dedicated server; the primary serves the
 * dedicated port with the merge of every process, itself included, after having every worker
 * publish (bounded: a worker that does not answer in time is merged from its last state and
 * counted in `otel_django_metrics_multiprocess_timeouts_total`). The in-app handler of any
 * process serves the merge too. With a dedicated port range each process listens on its own
 * port instead and serves its own values there (one target per process). `undefined` in a
 * worker of a primary without the preload.
 */
export function startNodeCluster(context: Context, join: Join): MultiProcess | undefined {
  const { config } = context;
  const role = clusterRole(config.multiprocDir);
  if (role === undefined) return undefined;
  const perProcessPort = config.portRange !== undefined;
  if (role.role === 'worker') {
    const part = join(role.dir);
    const worker = startClusterWorker(part.publisher, WORKER_FLUSH_TIMEOUT_MS);
    return {
      async collect() {
        await worker.flush();
        return part.collect();
      },
      dedicatedServer: perProcessPort ? 'own' : 'none',
      stop() {
        worker.stop();
        part.stop();
      },
    };
  }

  // A primary is a single process until the app forks (unless PROMETHEUS_MULTIPROC_DIR has it take part at once).
  let part = config.multiprocDir !== undefined ? join(role.dir) : undefined;
  const primary = startClusterPrimary({
    publishOwn: () => part?.publisher.publishNow(),
    onTimeouts: (count) => part?.timeouts.add(count),
    onFirstWorker: () => {
      role.makeDir();
      part ??= join(role.dir);
      // After the publisher's own exit hook: its last write lands before the removal.
      role.removeAtExit();
    },
    timeoutMs: FLUSH_TIMEOUT_MS,
  });
  return {
    async collect() {
      if (part === undefined) return context.registry.collect();
      await primary.flush();
      return part.collect();
    },
    dedicatedServer: perProcessPort ? 'own' : 'merged',
    stop() {
      primary.stop();
      part?.stop();
    },
  };
}
