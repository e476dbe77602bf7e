/**
 * Where the migrations of a connecting Prisma client are. A Prisma 7 client records no schema
 * location: its generated folder holds its runtime (`runtime/client.js`, or `@prisma/client`'s for
 * the default output) and a copy of the schema, whose generator `output` leads from the schema's
 * directory to that folder. Prisma keeps the migrations in `migrations` next to the schema.
 */
import { access, readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';

const RUNTIME = join('runtime', 'client.js');
const SCHEMA_COPY = 'schema.prisma';

/**
 * The Prisma runtime file among the calling frames: the client whose engine is connecting its
 * driver adapter. The frames are read from a stack trace taken at the adapter's `connect`.
 */
export function callingRuntime(): string | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 10;
  let stack: unknown;
  try {
    stack = new Error().stack;
  } finally {
    Error.stackTraceLimit = limit;
  }
  if (typeof stack !== 'string') return undefined;
  for (const line of stack.split('\n')) {
    const file = frameFile(line);
    if (file?.endsWith(sep + RUNTIME)) return file;
  }
  return undefined;
}

/** `    at fn (/a/b.js:1:2)` or `    at /a/b.js:1:2` -> `/a/b.js`. */
function frameFile(line: string): string | undefined {
  const location = line.endsWith(')') ? line.slice(line.lastIndexOf('(') + 1, -1) : line.trim().replace(/^at /, '');
  const file = location.replace(/:\d+:\d+$/, '');
  return isAbsolute(file) ? file : undefined;
}

/** The `migrations` folder of the client the runtime file serves, or `undefined` if its schema cannot be found. */
export async function migrationsFolderOf(runtimeFile: string): Promise<string | undefined> {
  const generated = await generatedFolderOf(runtimeFile);
  if (generated === undefined) return undefined;
  const copy = await readFile(join(generated, SCHEMA_COPY), 'utf8');
  for (const candidate of await schemaFolderCandidates(generated, copy)) {
    if (await holdsSchema(candidate, copy)) return join(candidate, 'migrations');
  }
  return undefined;
}

/** A custom output holds its own runtime copy; the default one (`.prisma/client`) is served by `@prisma/client`'s. */
async function generatedFolderOf(runtimeFile: string): Promise<string | undefined> {
  const owner = dirname(dirname(runtimeFile));
  if (await exists(join(owner, SCHEMA_COPY))) return owner;
  try {
    return dirname(createRequire(runtimeFile).resolve('.prisma/client/default'));
  } catch {
    return undefined;
  }
}

/**
 * The directories the schema can be in. From each generator `output` (relative to the schema's
 * directory): the folder it leads back to, or, when it starts with `..`, the subdirectories of
 * that folder (`../generated/prisma` from `prisma/` cannot name `prisma` itself). Without an
 * output, Prisma's default schema places: `prisma/` and the working directory.
 */
async function schemaFolderCandidates(generated: string, schema: string): Promise<string[]> {
  const outputs = [...schema.matchAll(/generator\s+\w+\s*\{([^}]*)\}/g)].flatMap(([, block]) => /^\s*output\s*=\s*"([^"]+)"/m.exec(block!)?.[1] ?? []);
  if (outputs.length === 0) return [join(process.cwd(), 'prisma'), process.cwd()];
  const candidates: string[] = [];
  for (const output of outputs) {
    if (isAbsolute(output)) continue;
    const parts = normalize(output).split(sep).filter((part) => part !== '' && part !== '.');
    const ups = parts.filter((part) => part === '..').length;
    const named = parts.slice(ups);
    if (named.includes('..') || !generated.endsWith(sep + named.join(sep))) continue;
    const base = generated.slice(0, generated.length - named.join(sep).length - 1);
    if (ups === 0) candidates.push(base);
    else if (ups === 1) candidates.push(...(await subdirectories(base)));
  }
  return candidates;
}

/** Whether `folder` has a `.prisma` file with exactly the schema the client was generated from. */
async function holdsSchema(folder: string, schema: string): Promise<boolean> {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (!entry.isFile() || !entry.name.endsWith('.prisma')) continue;
    if ((await readFile(join(folder, entry.name), 'utf8').catch(() => undefined)) === schema) return true;
  }
  return false;
}

async function subdirectories(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isDirectory() && entry.name !== 'node_modules').map((entry) => join(folder, entry.name));
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
