import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { expect, test } from 'vitest';
import { ROOT } from '../support/processes.js';

/** The folders whose direction the architecture fixes: data flows store -> output, never back. */
const SRC = join(ROOT, 'src');

/** Every `src/...` folder a file of `folder` imports, by relative specifier. */
function importedFolders(folder: string): string[] {
  const found = new Set<string>();
  for (const file of readdirSync(join(SRC, folder), { recursive: true }) as string[]) {
    if (!file.endsWith('.ts')) continue;
    const path = join(SRC, folder, file);
    for (const m of readFileSync(path, 'utf8').matchAll(/^(?:import|export)[^'"]*from '(\.[^']+)'/gm)) {
      const target = relative(SRC, resolve(dirname(path), m[1]!));
      found.add(target.startsWith('..') ? target.split('/').slice(0, 2).join('/') : target.split('/')[0]!);
    }
  }
  return [...found].sort();
}

test('no store module imports an output, an integration or the HTTP layer', () => {
  expect(importedFolders('store').filter((f) => ['exposition', 'http', 'db', 'cache', 'otel'].includes(f))).toEqual([]);
});

test('the exposition imports nothing from src/http (nor from the other integrations)', () => {
  expect(importedFolders('exposition').filter((f) => ['http', 'db', 'cache'].includes(f))).toEqual([]);
});
