export async function up(knex) {
  await knex.schema.alterTable('items', (t) => {
    t.integer('stock').notNullable().defaultTo(0);
  });
}

export async function down(knex) {
  await knex.schema.alterTable('items', (t) => {
    t.dropColumn('stock');
  });
}
