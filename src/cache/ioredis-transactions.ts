import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  isWrapped,
  type InstrumentationConfig,
} from '@opentelemetry/instrumentation';
import { types } from 'node:util';
import { safe } from '../contain.js';
import { backendFor, REDIS } from './backends.js';
import { wrapOwn } from './clients.js';
import { Read, readKeys } from './read.js';
import { safeDefinitions } from './safe-patches.js';
import type { CacheRecorder } from './recorder.js';

/** A command queued in an ioredis pipeline (the internal `_queue`). */
interface QueuedCommand {
  name: string;
  args: unknown[];
}

/** The pipeline `multi()` returns, with its queue of commands (MULTI first; EXEC is added by `exec`). */
interface TransactionPipeline {
  _queue?: QueuedCommand[];
  exec: (...args: unknown[]) => unknown;
}

type Multi = (this: object, ...args: unknown[]) => unknown;

/** A class with a `multi` method on its prototype: Redis, Cluster. */
type WithMulti = { prototype: { multi: Multi } };

/**
 * GETs and MGETs queued in an ioredis MULTI/EXEC transaction: `Redis#multi` and `Cluster#multi`
 * are wrapped so that the transaction's `exec` counts its reads and settles each from its own
 * entry of EXEC's reply. A transaction that fails or is discarded (a WATCHed key changed: EXEC
 * gives null) fails its reads.
 */
export class IORedisTransactions extends InstrumentationBase<InstrumentationConfig> {
  constructor(private readonly recorder: CacheRecorder) {
    super('otel-django-metrics/ioredis-transactions', '0.0.0', { enabled: false });
  }

  protected override init(): InstrumentationNodeModuleDefinition[] {
    // The patches get ioredis's CommonJS exports (safeDefinitions): the Redis class, with Cluster on it.
    const classes = (exports: unknown): WithMulti[] => {
      const redis = exports as (Partial<WithMulti> & { Cluster?: Partial<WithMulti> }) | undefined;
      return [redis, redis?.Cluster].filter((c): c is WithMulti => typeof c?.prototype?.multi === 'function');
    };
    return safeDefinitions([
      new InstrumentationNodeModuleDefinition(
        'ioredis',
        ['>=4.13.0 <7'], // from 4.13 queued commands are marked as in a transaction (see ioredis.ts)
        (exports: unknown) => {
          for (const { prototype } of classes(exports)) {
            if (isWrapped(prototype.multi)) this._unwrap(prototype, 'multi');
            this._wrap(prototype, 'multi', (original) => this.wrapMulti(original as Multi));
          }
          return exports;
        },
        (exports: unknown) => {
          for (const { prototype } of classes(exports)) if (isWrapped(prototype.multi)) this._unwrap(prototype, 'multi');
        },
      ),
    ]);
  }

  private wrapMulti(original: Multi): Multi {
    const recorder = this.recorder;
    return function (this: object, ...args: unknown[]) {
      const pipeline = original.apply(this, args);
      observe(recorder, this, pipeline);
      return pipeline;
    };
  }
}

/** Wraps the transaction's own `exec` (`multi({ pipeline: false })` returns no pipeline: not counted). */
const observe = safe('cache ioredis multi', (recorder: CacheRecorder, client: object, result: unknown): void => {
  const pipeline = result as TransactionPipeline | null;
  if (typeof pipeline !== 'object' || pipeline === null || !Array.isArray(pipeline._queue)) return;
  let counted = false;
  wrapOwn(pipeline, 'exec', (exec) =>
    function (this: unknown, ...args: unknown[]) {
      // exec runs again for a Cluster that was not ready yet: count the transaction once.
      const reads = counted ? undefined : startReads(recorder, client, pipeline._queue ?? []);
      counted = true;
      const outcome = exec.apply(this, args);
      if (reads !== undefined && reads.size > 0) settleOn(outcome, reads);
      return outcome;
    },
  );
});

/** The reads of a transaction, by their position among its commands (EXEC's reply has one entry per command). */
const startReads = safe('cache ioredis exec', (recorder: CacheRecorder, client: object, queue: QueuedCommand[]): Map<number, Read> => {
  const reads = new Map<number, Read>();
  const backend = backendFor(client, REDIS);
  if (backend === null) return reads;
  const commands = queue.filter((c) => c.name !== 'multi');
  commands.forEach((command, index) => {
    const shape = readKeys(command.name, command.args.length);
    if (shape !== undefined) reads.set(index, new Read(recorder, backend, shape.keys, shape.many));
  });
  return reads;
});

/** `exec` resolves to `[[err, value], ...]` per command, or null for a discarded transaction. */
const settleOn = safe('cache ioredis exec', (outcome: unknown, reads: Map<number, Read>): void => {
  if (!types.isPromise(outcome)) return failAll(reads);
  outcome.then(
    (results: unknown) => settleFrom(results, reads),
    () => failAll(reads),
  );
});

const settleFrom = safe('cache ioredis exec reply', (results: unknown, reads: Map<number, Read>): void => {
  if (!Array.isArray(results)) return failAll(reads);
  reads.forEach((read, index) => {
    const entry = results[index] as [unknown, unknown] | undefined;
    if (entry === undefined || entry[0]) read.fail();
    else read.answer(entry[1]);
  });
});

const failAll = safe('cache ioredis exec reply', (reads: Map<number, Read>): void => reads.forEach((read) => read.fail()));
