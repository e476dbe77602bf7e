// Sequelize workload: one model, each cycle creates, updates (save) and destroys one instance.
import { DataTypes, Sequelize } from 'sequelize';

export async function open({ database, register }) {
  const sequelize = new Sequelize(database.database, database.user, '', { dialect: 'postgres', host: database.host, port: database.port, logging: false, pool: { max: 1 } });
  const Dog = sequelize.define('Dog', { name: DataTypes.TEXT }, { tableName: 'bench_dogs', timestamps: false });
  register?.(Dog);
  await Dog.sync({ force: true });
  return {
    async cycle(i) {
      const dog = await Dog.create({ name: `dog${i}` });
      dog.name = `renamed${i}`;
      await dog.save();
      await dog.destroy();
    },
    close: () => sequelize.close(),
  };
}
