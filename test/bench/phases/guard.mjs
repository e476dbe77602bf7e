// Per-variant error isolation: a failing variant is recorded (and skipped for the rest of that
// phase) instead of aborting the whole bench; the harness exits non-zero if anything failed.
export function makeGuard(phase, failures, log) {
  const broken = new Set();
  return async function guarded(variant, fn) {
    if (broken.has(variant.name)) return undefined;
    try {
      return await fn();
    } catch (e) {
      broken.add(variant.name);
      const message = String(e?.message ?? e);
      failures.push({ phase, variant: variant.name, message });
      log(`  FAIL ${phase} ${variant.name}: ${message.split('\n')[0]}`);
      return undefined;
    }
  };
}

/** Starts a server, runs fn(server), always stops it. */
export async function withServer(start, fn) {
  const server = await start();
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}
