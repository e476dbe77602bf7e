// Prisma workload: the Dog model of test/fixtures/prisma/schema.prisma through @prisma/adapter-pg;
// each cycle creates, updates and deletes one row. Needs the generated client: run the Prisma
// tests once (they generate it into test/fixtures/prisma/generated).
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';

export async function open({ database, extend }) {
  const { PrismaClient } = await import('../../fixtures/prisma/generated/index.js');
  const schema = `bench_${process.pid}`;
  const connectionString = `postgresql://${database.user}@${database.host}:${database.port}/${database.database}`;
  const setup = new pg.Client({ connectionString });
  await setup.connect();
  await setup.query(`CREATE SCHEMA ${schema}`);
  await setup.query(`CREATE TABLE ${schema}."Dog" (id SERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, age INTEGER NOT NULL DEFAULT 0, "ownerId" INTEGER)`);
  const base = new PrismaClient({ adapter: new PrismaPg({ connectionString, max: 1 }, { schema }) });
  const prisma = extend ? extend(base) : base;
  return {
    async cycle(i) {
      const dog = await prisma.dog.create({ data: { name: `dog${i}` } });
      await prisma.dog.update({ where: { id: dog.id }, data: { age: 1 } });
      await prisma.dog.delete({ where: { id: dog.id } });
    },
    async close() {
      await base.$disconnect();
      await setup.query(`DROP SCHEMA ${schema} CASCADE`);
      await setup.end();
    },
  };
}
