/** Which registered model a MikroORM entity is. */
import { registeredNameOf } from './entity-classes.js';
import { modelNameOf } from './registrations.js';

/** The fields of MikroORM's `EntityMetadata` read here. */
export interface EntityMeta {
  readonly class?: unknown;
  readonly className?: string;
}

/** The fields of a MikroORM `EntityManager` read here. */
export interface EntityManagerLike {
  readonly config: { get(key: 'entities'): unknown };
  getMetadata(): { find(entityName: unknown): EntityMeta | undefined };
}

/**
 * The model name of an entity: its class's registration (or its nearest registered ancestor's),
 * else that of the `EntitySchema` (or `defineEntity` result) the app listed in its `entities`
 * option. MikroORM copies a schema's metadata at discovery, so the schema object itself is found
 * through that option.
 */
export function modelOfEntity(meta: EntityMeta | undefined, em: EntityManagerLike): string | undefined {
  if (meta === undefined) return undefined;
  const byClass = registeredNameOf(meta.class);
  if (byClass !== undefined) return byClass;
  const listed = em.config.get('entities');
  if (!Array.isArray(listed)) return undefined;
  for (const entity of listed) {
    const schema = entity as { meta?: EntityMeta } | null;
    if (typeof schema === 'object' && schema !== null && schema.meta?.className === meta.className) return modelNameOf(schema);
  }
  return undefined;
}
