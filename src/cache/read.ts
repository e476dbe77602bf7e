import type { CacheRecorder } from './recorder.js';

/** A hit is any value but `null` and `undefined`: `""` and `0` are hits, a stored null is a miss. */
export function isHit(value: unknown): boolean {
  return value !== null && value !== undefined;
}

/**
 * One counted read, counted in `get_total` when it is issued and settled exactly once: a reply
 * makes hits and misses, a failure counts in `get_fail` only. A multi-key read (MGET, keyv
 * `getMany`, memcached `getMulti`) counts one get per key; its reply is the array of values.
 */
export class Read {
  #settled = false;

  constructor(
    private readonly recorder: CacheRecorder,
    private readonly backend: string,
    private readonly keys: number,
    private readonly many: boolean,
  ) {
    recorder.requested(backend, keys);
  }

  answer(reply: unknown): void {
    if (!this.settle()) return;
    const hits = this.many ? countHits(reply, this.keys) : isHit(reply) ? 1 : 0;
    this.recorder.answered(this.backend, this.keys, hits);
  }

  fail(): void {
    if (this.settle()) this.recorder.failed(this.backend, this.keys);
  }

  get settled(): boolean {
    return this.#settled;
  }

  private settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    return true;
  }
}

function countHits(values: unknown, keys: number): number {
  if (!Array.isArray(values)) return 0;
  let hits = 0;
  for (let i = 0; i < values.length && i < keys; i++) if (isHit(values[i])) hits++;
  return hits;
}

/** How many keys a read command reads: GET 1, MGET one per argument; `undefined` for any other command. */
export function readKeys(command: string, argCount: number): { keys: number; many: boolean } | undefined {
  if (named(command, 'get')) return ONE_KEY;
  if (named(command, 'mget') && argCount > 0) return { keys: argCount, many: true };
  return undefined;
}

const ONE_KEY = Object.freeze({ keys: 1, many: false });

/** `command` is `name` (lower-case ASCII) in any case; runs for every command, so without allocating. */
function named(command: string, name: string): boolean {
  if (command.length !== name.length) return false;
  for (let i = 0; i < name.length; i++) if ((command.charCodeAt(i) | 0x20) !== name.charCodeAt(i)) return false;
  return true;
}
