import { createNoopMeter, metrics, type MeterProvider } from '@opentelemetry/api';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { API_VERSION, registerGlobalMeterProvider, unregisterGlobalMeterProvider } from '../../src/otel/global-meter-provider.js';

/** Registering without loading the API must be exactly what the API itself does: checked against the real one. */
const provider = (): MeterProvider => ({ getMeter: () => createNoopMeter() });
const API_GLOBALS = Symbol.for('opentelemetry.js.api.1');

afterEach(() => {
  metrics.disable();
  delete (globalThis as { [API_GLOBALS]?: unknown })[API_GLOBALS];
});

test('API_VERSION is the version of the installed @opentelemetry/api', () => {
  const main = createRequire(import.meta.url).resolve('@opentelemetry/api');
  const pkg = JSON.parse(readFileSync(join(dirname(main), '..', '..', 'package.json'), 'utf8')) as { version: string };
  expect(API_VERSION).toBe(pkg.version);
});

test('the API serves the registered provider; unregistered, its no-op one again', () => {
  const ours = provider();
  expect(registerGlobalMeterProvider(ours)).toBe(true);
  expect(metrics.getMeterProvider()).toBe(ours);
  unregisterGlobalMeterProvider();
  expect(metrics.getMeterProvider()).not.toBe(ours);
  expect(metrics.setGlobalMeterProvider(provider())).toBe(true);
});

test('refused, like the API, when a provider is registered already, by us or through the API', () => {
  const first = provider();
  expect(registerGlobalMeterProvider(first)).toBe(true);
  expect(registerGlobalMeterProvider(provider())).toBe(false);
  expect(metrics.setGlobalMeterProvider(provider())).toBe(false);
  expect(metrics.getMeterProvider()).toBe(first);

  unregisterGlobalMeterProvider();
  const theirs = provider();
  expect(metrics.setGlobalMeterProvider(theirs)).toBe(true);
  expect(registerGlobalMeterProvider(provider())).toBe(false);
  expect(metrics.getMeterProvider()).toBe(theirs);
});

test('refused, like the API, when another API version created the globals', () => {
  (globalThis as { [API_GLOBALS]?: unknown })[API_GLOBALS] = { version: '1.0.0' };
  expect(registerGlobalMeterProvider(provider())).toBe(false);
  expect(metrics.setGlobalMeterProvider(provider())).toBe(false);
});
