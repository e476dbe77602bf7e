// Machine-wide CPU accounting, to see how much of a measured window went to processes outside
// the bench (other users of a shared machine). Linux only; null elsewhere.
import { readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** Busy CPU time of the whole machine so far, in ms (all cores). */
export function machineBusyMs() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...: everything except idle and iowait is busy.
    const [user, nice, system, , , irq, softirq, steal = 0] = f;
    return (user + nice + system + irq + softirq + steal) * TICK_MS;
  } catch {
    return null;
  }
}

export function loadAverage() {
  try { return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '); } catch { return '?'; }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * On a shared machine, waits (at most maxMs) until the rest of the machine has been quiet
 * (below thresholdPct of one core) for one sample, with our own processes idle. Bounded, so a
 * machine that never calms down only costs maxMs per run; returns { waitedMs, quiet }.
 */
export async function waitForQuiet({ maxMs, thresholdPct = 20, sampleMs = 500 }) {
  const t0 = Date.now();
  if (!maxMs || machineBusyMs() === null) return { waitedMs: 0, quiet: true };
  for (;;) {
    const b0 = machineBusyMs();
    await sleep(sampleMs);
    const busyPct = ((machineBusyMs() - b0) / sampleMs) * 100;
    if (busyPct < thresholdPct) return { waitedMs: Date.now() - t0, quiet: true };
    if (Date.now() - t0 >= maxMs) return { waitedMs: Date.now() - t0, quiet: false };
  }
}

/**
 * The machine's speed right now: milliseconds for a fixed piece of CPU work (arithmetic, object
 * allocation and string work, ~10 ms on an idle core). A virtual machine's host can slow its
 * cores down by half or more without any process of ours or of the guest showing the load;
 * comparing this figure before and after a run with the best seen so far reveals it.
 */
export function calibrationMs() {
  // The best of three: one sample can be cut short by a timer or a context switch.
  return Math.min(calibrationSample(), calibrationSample(), calibrationSample());
}

function calibrationSample() {
  const t0 = performance.now();
  let acc = 0;
  for (let i = 0; i < 15_000; i++) {
    const o = { id: i, name: `item ${i}`, tags: ['a', 'b'] };
    acc = (acc * 31 + JSON.stringify(o).length + o.name.charCodeAt(5)) | 0;
  }
  if (acc === 42) console.log(''); // keeps the work observable
  return performance.now() - t0;
}
