import { hookFailed } from '../contain.js';
import { onceLogger, logLine, type Logger } from '../log.js';
import type { FamilySnapshot } from '../store/snapshot.js';
import { foldExited, readRetired } from './fold.js';
import { MergeTable } from './merge.js';
import { isAlive, ownIdentity, type ProcessIdentity } from './process-identity.js';
import type { Publisher } from './publisher.js';
import { runSliced } from './slices.js';
import { decodeState, type EncodedState } from './state-format.js';
import { listStateDir, readIfPresent, stateFileName } from './state-dir.js';

/** The merged view of a state directory, for one serving process. */
export interface MergedCollector {
  /**
   * Every process's state merged (see MergeTable), the exited processes' counters included and no
   * counter lower than this collector exposed before, ready for the text writer. The work is asynchronous and sliced: no step holds the event loop for long.
   */
  collect(): Promise<FamilySnapshot[]>;
}

export interface MergedCollectorOptions {
  /** The serving process's own publisher: it publishes first, so the merge holds its latest state. */
  own?: Publisher;
  log?: Logger;
}

/**
 * Collects the merge of the state directory `dir` at each call. Exited processes' files are
 * folded into the retired state first (when no other process is folding). The files are read,
 * and then the retired state last: a file folded and removed meanwhile is then named by the
 * retired state just read, and a file read before its fold is skipped for the same reason, so a
 * fold running in another process never makes one count twice or not at all. Calls run one after
 * another, never interleaved.
 */
export function mergedCollector(dir: string, options: MergedCollectorOptions = {}): MergedCollector {
  const warnOnce = onceLogger(options.log ?? logLine);
  const mismatch = (name: string) => warnOnce(`buckets ${name}`, `${name} has other buckets or labels in another process's state under ${dir}; that process's ${name} is left out of the merge`);
  const self = options.own?.identity ?? ownIdentity();
  const table = new MergeTable({ mismatch });
  let last: Promise<unknown> = Promise.resolve();

  const collectOnce = async (): Promise<FamilySnapshot[]> => {
    options.own?.publishNow();
    const listing = await listStateDir(dir);
    const alive = await Promise.all(listing.processes.map(isAlive));
    if (alive.includes(false)) await foldExited(dir, self, mismatch).catch((err: unknown) => hookFailed('multiprocess fold', err));
    const states: Array<{ process: ProcessIdentity; state: EncodedState; live: boolean }> = [];
    for (const [i, process] of listing.processes.entries()) {
      const bytes = await readIfPresent(dir, stateFileName(process.id));
      const state = bytes && decodeState(bytes);
      if (state) states.push({ process, state, live: alive[i]! });
    }
    const retired = await readRetired(dir);
    if (retired === undefined) warnOnce('retired', `cannot read the retired state under ${dir}; exited processes' counts are left out until it can be read`);
    const folded = new Set(retired?.folded);
    // Oldest first: the `first` gauge rule takes the oldest live process's value.
    states.sort((a, b) => a.process.start - b.process.start || a.process.pid - b.process.pid);
    table.begin();
    if (retired !== undefined) await runSliced(table.add(retired, false, 'retired'));
    for (const { process, state, live } of states) if (!folded.has(process.id)) await runSliced(table.add(state, live, process.id));
    return runSliced(table.finish());
  };

  return {
    collect() {
      const next = last.then(collectOnce, collectOnce);
      last = next;
      return next;
    },
  };
}
