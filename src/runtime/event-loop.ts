import { monitorEventLoopDelay } from 'node:perf_hooks';
import { RUNTIME } from '../../views/runtime.js';
import { safe } from '../contain.js';
import type { FamilySnapshot } from '../store/snapshot.js';
import { oneValue } from './points.js';

/**
 * The delay monitor wakes the loop once per resolution. prom-client's 10 ms (100 wake-ups a
 * second) costs about half a percent of a core in an idle process; 50 ms costs a fifth of that.
 */
export const RESOLUTION_MS = 50;
const PROM_CLIENT_RESOLUTION_MS = 10;

/**
 * Each sample is the whole interval between two wake-ups (the resolution plus the delay), so an
 * idle loop reads as the resolution. Shifting the samples by the difference of resolutions puts
 * the statistics on prom-client's scale (about 0.010 s when idle), the one dashboards assume.
 */
const SHIFT_NS = (RESOLUTION_MS - PROM_CLIENT_RESOLUTION_MS) * 1e6;

export interface EventLoopMonitor {
  collect(): FamilySnapshot[];
  stop(): void;
}

/** Samples the event-loop delay between collections; each collection reports and restarts the window. */
export function startEventLoopMonitor(): EventLoopMonitor {
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  let lag = 0;
  const measureLag = safe('runtime event loop lag', (since: bigint) => {
    lag = Number(process.hrtime.bigint() - since) / 1e9;
  });
  return {
    collect() {
      // As prom-client: the wait for the next turn of the loop, reported by the next collection.
      setImmediate(measureLag, process.hrtime.bigint()).unref();
      // An empty window keeps the monitor's own empty values, as prom-client reports them.
      const shift = delay.count > 0 ? SHIFT_NS : 0;
      const seconds = (ns: number) => (ns - shift) / 1e9;
      const snapshots = [
        oneValue(RUNTIME.eventLoopLag, lag),
        oneValue(RUNTIME.eventLoopLagMin, seconds(delay.min)),
        oneValue(RUNTIME.eventLoopLagMax, seconds(delay.max)),
        oneValue(RUNTIME.eventLoopLagMean, seconds(delay.mean)),
        oneValue(RUNTIME.eventLoopLagStddev, delay.stddev / 1e9),
        oneValue(RUNTIME.eventLoopLagP50, seconds(delay.percentile(50))),
        oneValue(RUNTIME.eventLoopLagP90, seconds(delay.percentile(90))),
        oneValue(RUNTIME.eventLoopLagP99, seconds(delay.percentile(99))),
      ];
      delay.reset();
      return snapshots;
    },
    stop() {
      delay.disable();
    },
  };
}
