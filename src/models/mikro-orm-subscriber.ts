/** The EventSubscriber every MikroORM instance gets: counts the unit of work's writes of registered entities. */
import { safe } from '../contain.js';
import { modelOfEntity, type EntityManagerLike, type EntityMeta } from './mikro-orm-entities.js';
import { currentModelRecorder, type ModelOperation } from './recorder.js';

/** What MikroORM passes to a flush event (`EventArgs`). */
interface FlushEvent {
  readonly meta?: EntityMeta;
  readonly em: EntityManagerLike;
}

const countWrite = safe('mikro-orm model count', (event: FlushEvent, operation: ModelOperation) => {
  const recorder = currentModelRecorder();
  if (recorder === undefined) return;
  const model = modelOfEntity(event.meta, event.em);
  if (model !== undefined) recorder.count(model, operation);
});

/**
 * MikroORM fires these for each change set of a flush, before its query runs, so a write that
 * then fails is counted. The subscriber has no `getSubscribedEntities`: entities registered after
 * the ORM started count too.
 */
export class ModelOperationsSubscriber {
  beforeCreate(event: FlushEvent): void {
    countWrite(event, 'insert');
  }

  beforeUpdate(event: FlushEvent): void {
    countWrite(event, 'update');
  }

  beforeDelete(event: FlushEvent): void {
    countWrite(event, 'delete');
  }
}

/** One subscriber for every instance: it reads the running distribution's recorder at each event. */
export const SUBSCRIBER = new ModelOperationsSubscriber();

/**
 * Adds the subscriber to an ORM's configured subscribers, from which MikroORM builds the event
 * manager of its global EntityManager and of every fork (fresh event managers included).
 */
export function subscribeConfiguration(config: { get(key: 'subscribers'): unknown }): void {
  const subscribers = config.get('subscribers');
  if (Array.isArray(subscribers) && !subscribers.includes(SUBSCRIBER)) subscribers.push(SUBSCRIBER);
}
