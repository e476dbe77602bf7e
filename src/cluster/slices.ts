import { performance } from 'node:perf_hooks';
import { fullLoopTurn } from '../loop-turn.js';

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
