import { isAlive, type ProcessIdentity } from './process-identity.js';
import { MergeTable } from './merge.js';
import { withFoldLock } from './lock.js';
import { runSliced } from './slices.js';
import { decodeState, StateEncoder, type EncodedState } from './state-format.js';
import { listStateDir, readIfPresent, removeIfPresent, RETIRED_FILE, stateFileName, writeAtomically } from './state-dir.js';

/** The retired state of a directory; empty when it has none yet, `undefined` when it cannot be read as one. */
export async function readRetired(dir: string): Promise<EncodedState | undefined> {
  const bytes = await readIfPresent(dir, RETIRED_FILE);
  return bytes === undefined ? { table: '', strings: [], families: [], folded: [] } : decodeState(bytes);
}

/**
 * Folds the state files of exited processes into the retired state, so that the directory holds
 * one file per live process plus one: their counters and histograms are added to the retired
 * ones (their gauges end with them), the retired state is written with the ids of the files it
 * now holds, and only then are those files removed. A fold cut short anywhere counts nothing
 * twice: before the write nothing changed, after it every reader and the next fold skip the
 * files the retired state names (and the next fold removes them). Runs under the fold lock;
 * returns false when another process holds it or the retired state cannot be read.
 */
export async function foldExited(dir: string, self: ProcessIdentity, onMismatch?: (name: string) => void): Promise<boolean> {
  const done = await withFoldLock(dir, self.id, async (held) => {
    const retired = await readRetired(dir);
    if (retired === undefined) return false;
    // Listed under the lock: no other fold removes files meanwhile.
    const listing = await listStateDir(dir);
    const exited = await filterAsync(listing.processes, async (p) => !(await isAlive(p)));
    const alreadyFolded = new Set(retired.folded);
    const merge = new MergeTable({ mismatch: onMismatch });
    merge.begin();
    await runSliced(merge.add(retired, false));
    const folded: string[] = [];
    for (const process of exited) {
      folded.push(process.id);
      if (alreadyFolded.has(process.id)) continue;
      const bytes = await readIfPresent(dir, stateFileName(process.id));
      const state = bytes && decodeState(bytes);
      // A damaged file (never written by us whole) has nothing that can be counted.
      if (state) await runSliced(merge.add(state, false));
    }
    if (exited.some((p) => !alreadyFolded.has(p.id))) {
      if (!held()) return false;
      writeAtomically(dir, self.id, RETIRED_FILE, new StateEncoder().encode(await runSliced(merge.finish()), folded));
    }
    for (const id of folded) await removeIfPresent(dir, stateFileName(id));
    for (const temp of listing.temps) if (!(await isAlive(temp.writer))) await removeIfPresent(dir, temp.name);
    return true;
  });
  return done === true;
}

async function filterAsync<T>(items: readonly T[], keep: (item: T) => Promise<boolean>): Promise<T[]> {
  const kept = await Promise.all(items.map(keep));
  return items.filter((_, i) => kept[i]);
}
