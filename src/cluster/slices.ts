import { performance } from 'node:perf_hooks';

/** Longest stretch a merge step keeps the event loop, in ms. */
const SLICE_MS = 10;

/**
 * Runs `steps` to its end, giving the event loop a whole turn whenever a slice has run SLICE_MS:
 * a merge of several processes' states is long work in the serving process, which is the app.
 * A step yields after a bounded amount of work (a few dozen series).
 */
export async function runSliced<T>(steps: Generator<void, T, undefined>): Promise<T> {
  let sliceStart = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (performance.now() - sliceStart < SLICE_MS) continue;
    await fullLoopTurn();
    sliceStart = performance.now();
  }
}

/**
 * One whole event-loop iteration (timers, I/O). One setImmediate is not enough: set from an I/O
 * callback it runs in that same iteration's check phase, before any timer.
 */
async function fullLoopTurn(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
}
