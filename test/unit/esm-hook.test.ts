import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isCommonJsEntry, needsEsmHook } from '../../src/otel/esm-hook.js';

const CJS_SOURCE = "#!/usr/bin/env node\nconst http = require('node:http');\nif (!http) return;\nmodule.exports = 1;\n";
const ESM_SOURCE = "import http from 'node:http';\nexport default http;\n";

let root: string;

/** Writes `files` (path -> content) under a fresh directory inside the temp root; returns that directory. */
function tree(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

beforeAll(() => {
  // The temp root must have no package.json above it for the "no package.json at all" case.
  root = mkdtempSync(join(tmpdir(), 'esm-hook-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('isCommonJsEntry: when the entry point is surely CommonJS, the ESM loader is not needed', () => {
  test.each([
    ['.cjs anywhere, even under "type": "module"', { 'package.json': '{"type":"module"}', 'app.cjs': CJS_SOURCE }, 'app.cjs', true],
    ['.cts under "type": "module"', { 'package.json': '{"type":"module"}', 'app.cts': 'const x: number = 1;' }, 'app.cts', true],
    ['.mjs under "type": "commonjs"', { 'package.json': '{"type":"commonjs"}', 'app.mjs': ESM_SOURCE }, 'app.mjs', false],
    ['.mts', { 'package.json': '{}', 'app.mts': ESM_SOURCE }, 'app.mts', false],
    ['.js under "type": "module"', { 'package.json': '{"type":"module"}', 'app.js': CJS_SOURCE }, 'app.js', false],
    ['.js under "type": "commonjs", whatever its syntax', { 'package.json': '{"type":"commonjs"}', 'app.js': ESM_SOURCE }, 'app.js', true],
    ['.ts under "type": "commonjs"', { 'package.json': '{"type":"commonjs"}', 'app.ts': 'import x from "y";' }, 'app.ts', true],
    ['.js without "type", CommonJS syntax', { 'package.json': '{"name":"x"}', 'app.js': CJS_SOURCE }, 'app.js', true],
    ['.js without "type", ES module syntax (Node 22 runs it as ESM)', { 'package.json': '{"name":"x"}', 'app.js': ESM_SOURCE }, 'app.js', false],
    ['.js without "type", import.meta', { 'package.json': '{}', 'app.js': 'console.log(import.meta.url);' }, 'app.js', false],
    ['.js without "type", top-level await', { 'package.json': '{}', 'app.js': 'await 1;' }, 'app.js', false],
    ['an extensionless file without "type", CommonJS syntax', { 'package.json': '{}', 'bin/app': CJS_SOURCE }, 'bin/app', true],
    ['.ts without "type": cannot tell', { 'package.json': '{}', 'app.ts': 'const x = require("y");' }, 'app.ts', false],
    ['the nearest package.json decides', { 'package.json': '{"type":"commonjs"}', 'sub/package.json': '{"type":"module"}', 'sub/app.js': CJS_SOURCE }, 'sub/app.js', false],
    ['a package.json without "type" is the nearest one', { 'package.json': '{"type":"module"}', 'sub/package.json': '{}', 'sub/app.js': CJS_SOURCE }, 'sub/app.js', true],
    ['an unparseable package.json', { 'package.json': '{', 'app.js': CJS_SOURCE }, 'app.js', false],
    ['`node app` finds app.js', { 'package.json': '{}', 'app.js': CJS_SOURCE }, 'app', true],
    ['`node dir` finds dir/index.js', { 'package.json': '{}', 'server/index.js': CJS_SOURCE }, 'server', true],
    ['a missing file', { 'package.json': '{}' }, 'gone.js', false],
  ] as const)('%s -> %s', (name, files, entry, expected) => {
    const dir = tree(name.replace(/\W+/g, '-'), files);
    expect(isCommonJsEntry(join(dir, entry))).toBe(expected);
  });

  test('no package.json above the file: CommonJS syntax decides', () => {
    const dir = tree('no-package-json', { 'a.js': CJS_SOURCE, 'b.js': ESM_SOURCE });
    expect(isCommonJsEntry(join(dir, 'a.js'))).toBe(true);
    expect(isCommonJsEntry(join(dir, 'b.js'))).toBe(false);
  });

  test('no entry point (node -e, the REPL): not sure, so not CommonJS', () => {
    expect(isCommonJsEntry(undefined)).toBe(false);
  });
});

describe('needsEsmHook', () => {
  test('PROMETHEUS_ESM_HOOK forces either way; unset, the entry point decides', () => {
    const dir = tree('setting', { 'package.json': '{}', 'app.cjs': CJS_SOURCE, 'app.mjs': ESM_SOURCE });
    expect(needsEsmHook(undefined, join(dir, 'app.cjs'))).toBe(false);
    expect(needsEsmHook(undefined, join(dir, 'app.mjs'))).toBe(true);
    expect(needsEsmHook(true, join(dir, 'app.cjs'))).toBe(true);
    expect(needsEsmHook(false, join(dir, 'app.mjs'))).toBe(false);
  });
});
