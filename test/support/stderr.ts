import { afterEach, beforeEach, vi } from 'vitest';

/**
 * Captures what the code under test writes to stderr (its one-line logs) during each test of the
 * calling file, instead of printing it. The returned array is refilled for every test.
 */
export function captureStderr(): string[] {
  const lines: string[] = [];
  beforeEach(() => {
    lines.length = 0;
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
  });
  afterEach(() => vi.restoreAllMocks());
  return lines;
}
