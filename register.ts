/**
 * The preload: `node --import otel-django-metrics/register app.js` (ESM and CommonJS apps).
 * It starts the distribution from the environment, with import-in-the-middle's ESM loader when
 * PROMETHEUS_ESM_HOOK asks for it. Whatever happens here, the app starts: failures are one line on stderr.
 */
import { readConfig } from './src/config.js';
import { logLine } from './src/log.js';
import { registerEsmHook } from './src/otel/esm-hook.js';
import { start } from './src/start.js';

try {
  const config = readConfig(process.env, logLine);
  if (!config.sdkDisabled) {
    // Before start(): the instrumentations it enables tell the loader which modules to wrap.
    const hooksAcknowledged = config.esmHook ? registerEsmHook() : undefined;
    await start({ config });
    await hooksAcknowledged?.();
  }
} catch (err) {
  logLine(`not started: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
}
