import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contain } from '../contain.js';

/**
 * The variable through which a node:cluster primary tells its workers where to publish: workers
 * get the primary's `process.env` when forked, so setting it in the preload, before the app can
 * fork, is all it takes. Its value: `{"primary":<pid>,"dir":"<state directory>"}`.
 */
export const CLUSTER_ENV = 'OTEL_DJANGO_METRICS_CLUSTER';

/**
 * A process's part in node:cluster and the state directory the primary and its workers share: a
 * `primary` (the preload runs in a cluster primary, which is any process that may fork workers)
 * makes the directory when the app forks its first worker, and removes it when it exits; a
 * `worker` was forked by a primary that set the variable.
 */
export type ClusterRole =
  | { readonly role: 'worker'; readonly dir: string }
  | {
      readonly role: 'primary';
      readonly dir: string;
      /** Makes the directory (a private one; a configured one exists). */
      makeDir(): void;
      /** Has the directory removed (a private one) in the 'exit' event, after the exit listeners added before. */
      removeAtExit(): void;
    };

const SITE = 'node:cluster state directory';

/**
 * Decides this process's role. A primary uses `dir` (PROMETHEUS_MULTIPROC_DIR) when given one,
 * else a private directory under the system's temporary directory, named now, made (mode 0700)
 * at the first fork and removed when the primary exits: an app that never forks gets a variable
 * and nothing on disk. `undefined` for a worker of a primary without the preload (PM2's daemon,
 * for one): a single process as far as node:cluster goes.
 */
export function clusterRole(dir: string | undefined, env: NodeJS.ProcessEnv = process.env): ClusterRole | undefined {
  if (cluster.isWorker) return workerRole(env[CLUSTER_ENV]);
  const shared = dir ?? join(tmpdir(), `otel-django-metrics-cluster-${process.pid}-${randomBytes(6).toString('hex')}`);
  env[CLUSTER_ENV] = JSON.stringify({ primary: process.pid, dir: shared });
  if (dir !== undefined) return { role: 'primary', dir, makeDir() {}, removeAtExit() {} };
  return {
    role: 'primary',
    dir: shared,
    // Fails if the name exists: the directory is this primary's alone.
    makeDir: () => mkdirSync(shared, { mode: 0o700 }),
    // The workers have exited by then, or exit with their IPC channel (nobody reads their last writes).
    removeAtExit: () => void process.on('exit', () => contain(SITE, () => rmSync(shared, { recursive: true, force: true }))),
  };
}

/**
 * A worker's role from the variable. One inherited from further up (a preloaded process that
 * started PM2's daemon, say) names another primary: only the parent's own counts.
 */
function workerRole(value: string | undefined): ClusterRole | undefined {
  if (!value) return undefined;
  const parsed = contain(SITE, () => JSON.parse(value) as { primary?: unknown; dir?: unknown });
  return parsed?.primary === process.ppid && typeof parsed.dir === 'string' ? { role: 'worker', dir: parsed.dir } : undefined;
}
