import { closeSync, openSync, renameSync, unlinkSync, writevSync } from 'node:fs';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parseIdentity, type ProcessIdentity } from './process-identity.js';

/**
 * The layout of a state directory: one `<pid>-<start>.state` per process that takes part, one
 * `retired.state` holding what exited processes counted, the fold lock, and, briefly, temporary
 * files: every file is written whole under a temporary name and renamed into place, so a reader
 * sees either the previous or the new content, never a part.
 */
export const RETIRED_FILE = 'retired.state';
const STATE_SUFFIX = '.state';
/** `.<writer id>.<target name>.tmp`: hidden, and naming the process that writes it. */
const TEMP = /^\.(\d+-\d+)\..+\.tmp$/;

export function stateFileName(id: string): string {
  return id + STATE_SUFFIX;
}

export interface StateDirListing {
  /** The processes that have a state file, in no particular order. */
  readonly processes: ProcessIdentity[];
  /** Temporary files, with the id of the process that was writing each. */
  readonly temps: Array<{ readonly name: string; readonly writer: ProcessIdentity }>;
}

/** What the directory holds now (other entries are ignored). */
export async function listStateDir(dir: string): Promise<StateDirListing> {
  const processes: ProcessIdentity[] = [];
  const temps: StateDirListing['temps'] = [];
  for (const name of await readdir(dir)) {
    if (name.endsWith(STATE_SUFFIX)) {
      const identity = parseIdentity(name.slice(0, -STATE_SUFFIX.length));
      if (identity !== undefined) processes.push(identity);
      continue;
    }
    const temp = TEMP.exec(name);
    const writer = temp && parseIdentity(temp[1]!);
    if (writer) temps.push({ name, writer });
  }
  return { processes, temps };
}

/**
 * Writes `name` whole from its parts, synchronously: it also runs in the process's 'exit' event,
 * where nothing asynchronous does.
 */
export function writeAtomically(dir: string, writerId: string, name: string, parts: readonly Uint8Array[]): void {
  const temp = join(dir, `.${writerId}.${name}.tmp`);
  try {
    const fd = openSync(temp, 'w');
    try {
      const bytes = parts.reduce((n, part) => n + part.length, 0);
      if (writevSync(fd, parts as Uint8Array[]) !== bytes) throw new Error(`short write of ${temp}`);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, join(dir, name));
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // Never written, or already renamed.
    }
    throw err;
  }
}

/** A file's bytes; `undefined` when it does not exist (a process's file may be folded and removed at any time). */
export async function readIfPresent(dir: string, name: string): Promise<Buffer | undefined> {
  try {
    return await readFile(join(dir, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Removes a file; one already gone is fine. */
export async function removeIfPresent(dir: string, name: string): Promise<void> {
  try {
    await unlink(join(dir, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
