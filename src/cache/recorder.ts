import { CACHE } from '../../views/cache.js';
import { currentDistribution } from '../state.js';
import type { Counter } from '../store/counter.js';
import type { Registry } from '../store/registry.js';

/** The 4 cache families (django_cache_get_*): every counted read ends up here. */
export class CacheRecorder {
  private readonly gets: Counter;
  private readonly hits: Counter;
  private readonly misses: Counter;
  private readonly fails: Counter;
  /** Label tuples by backend name, allocated once per backend. */
  private readonly labels = new Map<string, readonly string[]>();

  constructor(registry: Registry) {
    this.gets = registry.counter(CACHE.get);
    this.hits = registry.counter(CACHE.hits);
    this.misses = registry.counter(CACHE.misses);
    this.fails = registry.counter(CACHE.fail);
  }

  /** `keys` reads issued (a GET is one, an MGET one per key). */
  requested(backend: string, keys: number): void {
    this.gets.add(this.labelsOf(backend), keys);
  }

  /** A read that got its reply: `hits` of its `keys` came back with a value, the others missed. */
  answered(backend: string, keys: number, hits: number): void {
    const labels = this.labelsOf(backend);
    if (hits > 0) this.hits.add(labels, hits);
    if (keys > hits) this.misses.add(labels, keys - hits);
  }

  /** A read that failed: neither hit nor miss. */
  failed(backend: string, keys: number): void {
    this.fails.add(this.labelsOf(backend), keys);
  }

  /**
   * A backend's four series are created together at its first read, so that a hit ratio or a
   * failure rate reads 0 rather than "no data" until the first hit or failure.
   */
  private labelsOf(backend: string): readonly string[] {
    let labels = this.labels.get(backend);
    if (labels === undefined) {
      labels = [backend];
      for (const c of [this.gets, this.hits, this.misses, this.fails]) c.touch(labels);
      this.labels.set(backend, labels);
    }
    return labels;
  }
}

const recorders = new WeakMap<Registry, CacheRecorder>();

export function recorderFor(registry: Registry): CacheRecorder {
  let recorder = recorders.get(registry);
  if (recorder === undefined) {
    recorder = new CacheRecorder(registry);
    recorders.set(registry, recorder);
  }
  return recorder;
}

/** The running distribution's recorder; `undefined` when none runs (the public API is then a no-op). */
export function currentRecorder(): CacheRecorder | undefined {
  const distribution = currentDistribution();
  return distribution === undefined ? undefined : recorderFor(distribution.registry);
}
