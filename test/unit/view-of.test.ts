import type { IncomingMessage } from 'node:http';
import { expect, test } from 'vitest';
import { viewOf } from '../../src/index.js';

test('viewOf: a request the package does not track (no preload, or not a server request) is <unnamed view>; it never throws', () => {
  expect(viewOf({} as IncomingMessage)).toBe('<unnamed view>');
  expect(viewOf(null as unknown as IncomingMessage)).toBe('<unnamed view>');
});
