import { createRequire } from 'node:module';
import type { Activation } from '../../otel/package-loads.js';
import type { HttpRecorder } from '../recorder.js';
import { enableFastifyAdapter } from './fastify.js';

// An adapter loads with its framework (src/otel/package-loads.ts): require, to do it synchronously.
const require = createRequire(import.meta.url);

/**
 * Framework adapters: each translates one framework's events (entry, route match, render, error)
 * into recorder calls. express, koa, hapi and NestJS are patched through `@opentelemetry/instrumentation` module
 * hooks, loaded when the app first loads the framework; fastify announces its instances on a
 * diagnostics channel, which costs nothing to subscribe to. Returns the function that disables them.
 */
export function enableFrameworkAdapters(recorder: HttpRecorder, activate: Activation): () => void {
  const disables = [
    activate(['express', 'router'], () => (require('./express.js') as typeof import('./express.js')).enableExpressAdapter(recorder)),
    enableFastifyAdapter(recorder),
    activate(['koa'], () => (require('./koa.js') as typeof import('./koa.js')).enableKoaAdapter(recorder)),
    activate(['@hapi/hapi'], () => (require('./hapi.js') as typeof import('./hapi.js')).enableHapiAdapter(recorder)),
    activate(['@nestjs/core'], () => (require('./nestjs.js') as typeof import('./nestjs.js')).enableNestAdapter(recorder)),
  ];
  return () => disables.forEach((disable) => disable());
}
