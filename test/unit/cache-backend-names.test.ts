import { expect, test } from 'vitest';
import { acceptBackendName } from '../../src/cache/backends.js';
import { captureStderr } from '../support/stderr.js';

/** The limits on backend names, exactly: 64 characters, 100 distinct names besides the built-in ones. */
const stderr = captureStderr();

test('a name of 64 characters is accepted, one of 65 is not (one warning line)', () => {
  expect(acceptBackendName('x'.repeat(64), 'trackCache')).toBe('x'.repeat(64));
  expect(acceptBackendName('y'.repeat(65), 'trackCache')).toBeUndefined();
  expect(stderr).toEqual([`otel-django-metrics: trackCache: invalid backend name "${'y'.repeat(65)}" (expected a non-empty string of at most 64 characters); ignored, as are further invalid names\n`]);
});

test('100 distinct names besides the built-in ones are accepted; the 101st and later new names are not, with one warning line', () => {
  // The 64-character name above is the first of the 100; names already accepted do not count again.
  for (let i = 1; i < 100; i++) expect(acceptBackendName(`tenant-${i}`, 'setCacheBackend')).toBe(`tenant-${i}`);
  for (const name of ['redis', 'memcached', 'locmem', 'tenant-1', 'x'.repeat(64)]) expect(acceptBackendName(name, 'setCacheBackend')).toBe(name);
  expect(stderr).toEqual([]);
  expect(acceptBackendName('tenant-100', 'setCacheBackend')).toBeUndefined();
  expect(acceptBackendName('tenant-101', 'setCacheBackend')).toBeUndefined();
  expect(stderr).toEqual(['otel-django-metrics: setCacheBackend: more than 100 distinct cache backend names; "tenant-100" and further new names are ignored\n']);
  // Names accepted before the limit still are, the built-in ones too.
  for (const name of ['tenant-99', 'redis', 'locmem']) expect(acceptBackendName(name, 'setCacheBackend')).toBe(name);
});
