import { contain } from '../contain.js';
import type { Collector, FamilySnapshot } from '../store/snapshot.js';
import { startEventLoopMonitor } from './event-loop.js';
import { maxFds, openFds } from './fds.js';
import { startGcObserver } from './gc.js';
import { handles, requests, resources } from './handles.js';
import { heap, heapSpaces } from './heap.js';
import { cpu, memory, startTime } from './process.js';
import { version } from './version.js';

export interface RuntimeMetrics {
  /** The Node.js runtime families (views/runtime.ts), computed at each collection. */
  readonly collector: Collector;
  /** Disables the event-loop monitor and the GC observer. */
  stop(): void;
}

/** A part of the runtime families: each part fails alone, dropping only its own families. */
type Part = readonly [site: string, collect: () => FamilySnapshot[]];

const LINUX = process.platform === 'linux';

export function startRuntimeMetrics(): RuntimeMetrics {
  const eventLoop = contain('runtime event loop monitor', startEventLoopMonitor);
  const gc = contain('runtime gc observer start', startGcObserver);
  // prom-client's registration order, which is its exposition order.
  const parts: Part[] = [
    ['runtime cpu', cpu],
    ['runtime start time', startTime],
    ['runtime memory', memory],
    ...(LINUX ? ([['runtime open fds', openFds], ['runtime max fds', maxFds]] as const) : []),
    ...(eventLoop ? [['runtime event loop', eventLoop.collect] as const] : []),
    ['runtime resources', resources],
    ['runtime handles', handles],
    ['runtime requests', requests],
    ['runtime heap', heap],
    ['runtime heap spaces', heapSpaces],
    ['runtime version', version],
    ...(gc ? [['runtime gc', gc.collect] as const] : []),
  ];
  return {
    collector: {
      collect() {
        const snapshots: FamilySnapshot[] = [];
        for (const [site, part] of parts) snapshots.push(...(contain(site, part) ?? []));
        return snapshots;
      },
    },
    stop() {
      contain('runtime stop', () => {
        eventLoop?.stop();
        gc?.stop();
      });
    },
  };
}
