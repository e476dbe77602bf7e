// The example's schema, applied by knex migrations at startup (and counted in the migration gauges).
export async function up(knex) {
  await knex.schema.createTable('items', (t) => {
    t.integer('id').primary();
    t.text('name').notNullable();
  });
}

export async function down(knex) {
  await knex.schema.dropTable('items');
}
