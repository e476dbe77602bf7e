import { existsSync } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const LOCK = 'fold.lock';

/**
 * A lock held this long is taken to be left by a process that died holding it: a fold takes
 * milliseconds, a few hundred at the largest states.
 */
export const STALE_LOCK_MS = 10_000;

/** Whether the lock is still ours: checked right before the one write that must not happen twice. */
export type StillHeld = () => boolean;

/**
 * Runs `work` holding the directory's fold lock (an atomic `mkdir`, with a file inside naming its
 * owner), or returns `undefined` at once if another process holds it: folding can wait for the
 * next scrape. A lock older than `staleMs` is taken over: renamed away first (of two takers, one
 * rename succeeds), then removed. Should a taker ever move a fresh lock away (two takeovers racing),
 * the owner of that lock sees it is no longer held and writes nothing.
 */
export async function withFoldLock<T>(dir: string, owner: string, work: (held: StillHeld) => Promise<T>, staleMs = STALE_LOCK_MS): Promise<T | undefined> {
  const lock = join(dir, LOCK);
  if (!(await take(lock)) && !((await takeOverStale(dir, lock, owner, staleMs)) && (await take(lock)))) return undefined;
  const mark = join(lock, owner);
  try {
    await writeFile(mark, '');
    return await work(() => existsSync(mark));
  } finally {
    // Only our own lock: one taken over from us is someone else's now.
    if (existsSync(mark)) await rm(lock, { recursive: true, force: true });
  }
}

async function take(lock: string): Promise<boolean> {
  try {
    await mkdir(lock);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

async function takeOverStale(dir: string, lock: string, owner: string, staleMs: number): Promise<boolean> {
  try {
    if (Date.now() - (await stat(lock)).mtimeMs < staleMs) return false;
    const away = join(dir, `.${LOCK}.${owner}.stale`);
    await rename(lock, away);
    await rm(away, { recursive: true, force: true });
    return true;
  } catch (err) {
    // Released, or taken over by another process meanwhile.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
