import { createRequire, register } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Registers import-in-the-middle's ESM loader (`PROMETHEUS_ESM_HOOK=true`). The preload's own
 * instrumentations do not need it: every package they patch is CommonJS, which an ES module's
 * import loads through Node's CommonJS loader (src/otel/package-loads.ts). It is what lets other
 * OpenTelemetry instrumentations patch real ES modules, and Node 20 runs loader hooks on a worker
 * thread whose start blocks the preload for 40-70 ms. It wraps only the modules instrumentations
 * ask for over the message channel, so the app's other imports are untouched. Returns the wait
 * for it to have received every such request (call it once the instrumentations are enabled).
 */
export function registerEsmHook(): () => Promise<void> {
  const { createAddHookMessageChannel } = require('import-in-the-middle') as typeof import('import-in-the-middle');
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  return waitForAllMessagesAcknowledged;
}
