// TypeORM workload: one entity, each cycle saves a new one, saves it changed and removes it.
import { DataSource, EntitySchema } from 'typeorm';

class Dog {}

export async function open({ database, register }) {
  register?.(Dog);
  const schema = new EntitySchema({
    name: 'Dog',
    target: Dog,
    tableName: 'bench_dogs',
    columns: { id: { type: Number, primary: true, generated: true }, name: { type: String } },
  });
  const source = new DataSource({ type: 'postgres', host: database.host, port: database.port, username: database.user, database: database.database, entities: [schema], synchronize: true, dropSchema: true, poolSize: 1 });
  await source.initialize();
  const dogs = source.getRepository(Dog);
  return {
    async cycle(i) {
      const dog = Object.assign(new Dog(), { name: `dog${i}` });
      await dogs.save(dog);
      dog.name = `renamed${i}`;
      await dogs.save(dog);
      await dogs.remove(dog);
    },
    close: () => source.destroy(),
  };
}
