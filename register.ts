/**
 * The preload: `node --import otel-django-metrics/register app.js` (ESM and CommonJS apps).
 * It registers the ESM module hook when the app needs it, then starts the distribution from the
 * environment. Whatever happens here, the app starts: failures are one line on stderr.
 */
import { readConfig } from './src/config.js';
import { logLine } from './src/log.js';
import { needsEsmHook, registerEsmHook } from './src/otel/esm-hook.js';
import { start } from './src/start.js';

try {
  const config = readConfig(process.env, logLine);
  if (!config.sdkDisabled) {
    // Before start(): the instrumentations it enables tell the loader which modules to wrap.
    const hooksAcknowledged = needsEsmHook(config.esmHook, process.argv[1]) ? registerEsmHook() : undefined;
    await start({ config });
    await hooksAcknowledged?.();
  }
} catch (err) {
  logLine(`not started: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
}
