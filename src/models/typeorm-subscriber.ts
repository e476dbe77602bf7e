import { safe } from '../contain.js';
import type { AnyMethod } from '../db/own-methods.js';
import { whenFulfilled } from './entity-bulk.js';
import { registeredNameOf } from './entity-classes.js';
import { currentModelRecorder, type ModelOperation } from './recorder.js';

/** What TypeORM passes to a subscriber's `before*` methods, as far as counting uses it. */
interface EntityEvent {
  readonly entity?: unknown;
  readonly metadata?: { readonly target?: unknown };
}

/** A persistence run's planned writes: one subject per entity, `parentSubject` set for the rows it derived. */
interface Subject {
  readonly entity?: unknown;
  readonly parentSubject?: unknown;
}

interface SubjectExecutor {
  readonly allSubjects?: readonly Subject[];
}

/**
 * Whether the subscriber is being called from the persistence path (`save`, `remove`,
 * `softRemove`, `recover` through a repository or an EntityManager): its "before" events are
 * broadcast in one synchronous call, `SubjectExecutor#broadcastBeforeEventsForAll`, marked here.
 * Bulk writes (`insert`, `update`/`delete` by criteria, `upsert`, query builders) broadcast the
 * same events from the query builders, with nothing in the event to tell them apart (an
 * `insert` passes the app's own objects, as `save` does).
 */
const persisting = {
  active: false,
  /** The entities of the run's derived rows (cascades, relation updates), when it has any. */
  nested: undefined as Set<unknown> | undefined,
};

export function patchBroadcast(original: AnyMethod): AnyMethod {
  return function broadcastBeforeEventsForAll(this: unknown) {
    const { active, nested } = persisting;
    persisting.active = false;
    mark(this as SubjectExecutor);
    try {
      return Reflect.apply(original, this, arguments);
    } finally {
      persisting.active = active;
      persisting.nested = nested;
    }
  };
}

/** Marks the persistence run; if that fails, the run is not marked and nothing of it is counted. */
const mark = safe('typeorm persistence', (executor: SubjectExecutor) => {
  persisting.nested = nestedEntities(executor);
  persisting.active = true;
});

/** The entities of derived subjects, or `undefined` when every subject is one the app passed (the usual case: nothing allocated). */
function nestedEntities(executor: SubjectExecutor): Set<unknown> | undefined {
  let nested: Set<unknown> | undefined;
  for (const subject of executor.allSubjects ?? []) {
    if (subject.parentSubject !== undefined && subject.entity !== undefined) (nested ??= new Set()).add(subject.entity);
  }
  return nested;
}

/**
 * An entity written by the app itself through the persistence path: nested rows count for the
 * top-level model only, and derived rows without an entity of their own (junction rows, foreign
 * key updates) not at all.
 */
function countPersisted(event: EntityEvent, operation: ModelOperation): void {
  if (!persisting.active) return;
  const entity = event.entity;
  if (entity === undefined || entity === null || persisting.nested?.has(entity)) return;
  const recorder = currentModelRecorder();
  if (recorder === undefined) return;
  const name = registeredNameOf(event.metadata?.target);
  if (name !== undefined) recorder.count(name, operation);
}

/**
 * The subscriber put in every DataSource: counts registered entities' instance writes before
 * they run (a failing write counts). TypeORM calls it for every entity (no `listenTo`).
 */
const SUBSCRIBER = {
  beforeInsert: safe('typeorm insert count', (event: EntityEvent) => countPersisted(event, 'insert')),
  beforeUpdate: safe('typeorm update count', (event: EntityEvent) => countPersisted(event, 'update')),
  beforeRemove: safe('typeorm delete count', (event: EntityEvent) => countPersisted(event, 'delete')),
  // A soft removal and its undoing set or clear the deletion column: updates of the row.
  beforeSoftRemove: safe('typeorm soft remove count', (event: EntityEvent) => countPersisted(event, 'update')),
  beforeRecover: safe('typeorm recover count', (event: EntityEvent) => countPersisted(event, 'update')),
};

interface DataSource {
  readonly subscribers?: unknown;
}

/**
 * `DataSource#initialize` builds the DataSource's subscribers from its options: the counting
 * subscriber joins them once it resolved, before the app's own continuation runs.
 */
export function patchInitialize(original: AnyMethod): AnyMethod {
  return function initialize(this: unknown) {
    const result = Reflect.apply(original, this, arguments);
    afterInitialize(this, result);
    return result;
  };
}

const afterInitialize = safe('typeorm initialize', (dataSource: unknown, result: unknown) => {
  whenFulfilled(result, () => addSubscriber(dataSource as DataSource));
});

const addSubscriber = safe('typeorm subscriber', (dataSource: DataSource) => {
  const subscribers = dataSource.subscribers;
  if (Array.isArray(subscribers) && !subscribers.includes(SUBSCRIBER)) subscribers.push(SUBSCRIBER);
});
