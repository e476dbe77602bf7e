import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ROOT } from '../support/processes.js';

/** The README's promises that can drift: the generated family table and the set-up commands. */
const README = readFileSync(`${ROOT}README.md`, 'utf8');

/** The text of a `## heading` section, up to the next `## ` heading. */
function section(heading: string): string {
  const start = README.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

describe('README.md', () => {
  test('the family table is exactly what scripts/families.mjs generates from the catalog', () => {
    const generated = execFileSync(process.execPath, ['scripts/families.mjs'], { cwd: ROOT, encoding: 'utf8' });
    const block = /<!-- families:start -->[\s\S]*?<!-- families:end -->/.exec(README)?.[0];
    // On failure: `npm run build && node scripts/families.mjs --write`.
    expect(block).toBe(generated.trimEnd());
  });

  test('"Try it" gives exactly two set-up commands: `npm install && npm run demo` and `npm test`', () => {
    const commands = [...section('Try it').matchAll(/```sh\n([\s\S]*?)\n```/g)].map((m) => m[1]);
    expect(commands).toEqual(['npm install && npm run demo', 'npm test']);
  });

  test('the settings table documents every variable src/config.ts reads', () => {
    const config = readFileSync(`${ROOT}src/config.ts`, 'utf8');
    const read = new Set([...config.matchAll(/\b((?:PROMETHEUS|OTEL)_[A-Z_]+)\b/g)].map((m) => m[1]!));
    const documented = new Set([...section('Settings').matchAll(/`((?:PROMETHEUS|OTEL)_[A-Z_]+)`/g)].map((m) => m[1]!));
    expect([...read].filter((name) => !documented.has(name))).toEqual([]);
  });

  test('the package scripts those commands run build first and start the demo and the tests', () => {
    const { scripts } = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.demo).toBe('npm run build && node scripts/demo.mjs');
    expect(scripts.test).toBe('npm run build && vitest run');
  });
});
