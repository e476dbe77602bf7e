// MikroORM workload: one entity, each cycle persists a new one, flushes a change and removes it.
import { EntitySchema, MikroORM } from '@mikro-orm/postgresql';

class Dog {}

export async function open({ database, register }) {
  register?.(Dog);
  const schema = new EntitySchema({ class: Dog, tableName: 'bench_dogs', properties: { id: { type: 'number', primary: true, autoincrement: true }, name: { type: 'string' } } });
  const orm = await MikroORM.init({ entities: [schema], host: database.host, port: database.port, user: database.user, dbName: database.database, pool: { min: 0, max: 1 }, allowGlobalContext: true, debug: false });
  await orm.schema.refreshDatabase();
  return {
    async cycle(i) {
      const em = orm.em.fork();
      const dog = Object.assign(new Dog(), { name: `dog${i}` });
      await em.persistAndFlush(dog);
      dog.name = `renamed${i}`;
      await em.flush();
      await em.removeAndFlush(dog);
    },
    close: () => orm.close(true),
  };
}
