/**
 * The preload: `node --import otel-django-metrics/register app.js` (ESM and CommonJS apps).
 * It registers the ESM module hook, then starts the distribution from the environment.
 * Whatever happens here, the app starts: failures are one line on stderr.
 */
import { createAddHookMessageChannel } from 'import-in-the-middle';
import { register } from 'node:module';
import { readConfig } from './src/config.js';
import { logLine } from './src/log.js';
import { start } from './src/start.js';

try {
  const config = readConfig(process.env, logLine);
  if (!config.sdkDisabled) {
    // The loader wraps only the modules our instrumentations ask for (sent over this channel),
    // so the rest of the app's imports are untouched and startup stays cheap.
    const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
    register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
    await start({ config });
    await waitForAllMessagesAcknowledged();
  }
} catch (err) {
  logLine(`not started: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
}
