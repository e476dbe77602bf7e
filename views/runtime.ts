import { family, type FamilyDef, type MergeRule } from './family.js';

/**
 * The Node.js runtime families, exactly as prom-client 15's `collectDefaultMetrics()` exposes them
 * on Linux (names, HELP, types, labels, GC buckets, and each gauge's cross-process `aggregator`, but
 * for the start time),
 * so the nodejs-mixin and community Node.js dashboards read them unchanged. Never namespaced.
 */
type RuntimeInput = Omit<FamilyDef, 'group' | 'merge' | 'labels'> & { labels?: readonly string[]; merge?: MergeRule };

// prom-client's default aggregator is `sum`; its counters and histograms always sum.
const runtime = ({ labels = [], merge = 'sum', ...def }: RuntimeInput): FamilyDef =>
  def.type === 'gauge' ? family({ ...def, labels, merge, group: 'runtime', type: 'gauge' }) : family({ ...def, labels, group: 'runtime', type: def.type });

const gauge = (name: string, help: string, merge?: MergeRule, labels?: readonly string[]) => runtime({ name, help, type: 'gauge', merge, labels });
const counter = (name: string, help: string) => runtime({ name, help, type: 'counter' });

/** Node's event loop delay monitor, one family per statistic prom-client reports. */
const lagStat = (stat: string, help: string, merge: MergeRule) => gauge(`nodejs_eventloop_lag_${stat}_seconds`, help, merge);

/** One family per `v8.getHeapSpaceStatistics()` size, labelled by space. */
const heapSpace = (size: 'total' | 'used' | 'available') =>
  gauge(`nodejs_heap_space_size_${size}_bytes`, `Process heap space size ${size} from Node.js in bytes.`, 'sum', ['space']);

/** prom-client's default GC duration buckets (seconds); `+Inf` is implicit. */
export const GC_BUCKETS: readonly number[] = Object.freeze([0.001, 0.01, 0.1, 1, 2, 5]);

/** In prom-client's registration order, which is its exposition order. */
export const RUNTIME = {
  cpuUser: counter('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.'),
  cpuSystem: counter('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.'),
  cpu: counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.'),
  // prom-client omits it from a merge, which empties uptime panels: the first process's value instead.
  startTime: gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', 'first'),
  residentMemory: gauge('process_resident_memory_bytes', 'Resident memory size in bytes.'),
  virtualMemory: gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.'),
  heapBytes: gauge('process_heap_bytes', 'Process heap size in bytes.'),
  openFds: gauge('process_open_fds', 'Number of open file descriptors.'),
  maxFds: gauge('process_max_fds', 'Maximum number of open file descriptors.'),
  eventLoopLag: gauge('nodejs_eventloop_lag_seconds', 'Lag of event loop in seconds.', 'average'),
  eventLoopLagMin: lagStat('min', 'The minimum recorded event loop delay.', 'min'),
  eventLoopLagMax: lagStat('max', 'The maximum recorded event loop delay.', 'max'),
  eventLoopLagMean: lagStat('mean', 'The mean of the recorded event loop delays.', 'average'),
  eventLoopLagStddev: lagStat('stddev', 'The standard deviation of the recorded event loop delays.', 'average'),
  eventLoopLagP50: lagStat('p50', 'The 50th percentile of the recorded event loop delays.', 'average'),
  eventLoopLagP90: lagStat('p90', 'The 90th percentile of the recorded event loop delays.', 'average'),
  eventLoopLagP99: lagStat('p99', 'The 99th percentile of the recorded event loop delays.', 'average'),
  activeResources: gauge(
    'nodejs_active_resources',
    'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.',
    'sum',
    ['type'],
  ),
  activeResourcesTotal: gauge('nodejs_active_resources_total', 'Total number of active resources.'),
  activeHandles: gauge(
    'nodejs_active_handles',
    'Number of active libuv handles grouped by handle type. Every handle type is C++ class name.',
    'sum',
    ['type'],
  ),
  activeHandlesTotal: gauge('nodejs_active_handles_total', 'Total number of active handles.'),
  activeRequests: gauge(
    'nodejs_active_requests',
    'Number of active libuv requests grouped by request type. Every request type is C++ class name.',
    'sum',
    ['type'],
  ),
  activeRequestsTotal: gauge('nodejs_active_requests_total', 'Total number of active requests.'),
  heapSizeTotal: gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.'),
  heapSizeUsed: gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.'),
  externalMemory: gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.'),
  heapSpaceSizeTotal: heapSpace('total'),
  heapSpaceSizeUsed: heapSpace('used'),
  heapSpaceSizeAvailable: heapSpace('available'),
  versionInfo: gauge('nodejs_version_info', 'Node.js version info.', 'first', ['version', 'major', 'minor', 'patch']),
  gcDuration: runtime({
    name: 'nodejs_gc_duration_seconds',
    help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    type: 'histogram',
    labels: ['kind'],
    buckets: GC_BUCKETS,
  }),
} as const;

/** The runtime families, in exposition order. */
export const RUNTIME_FAMILIES: readonly FamilyDef[] = Object.freeze(Object.values(RUNTIME));
