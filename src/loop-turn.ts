/**
 * Lets one whole event-loop iteration (timers, I/O) run, between slices of long work done in the
 * app's process (a scrape, a multi-process merge). One setImmediate is not enough: set from an I/O
 * callback (the request, a drained response) it runs in that same iteration's check phase, before
 * any timer, and two slices would run back to back.
 */
export async function fullLoopTurn(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
}
