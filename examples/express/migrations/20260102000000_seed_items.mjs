const ITEMS = ['keyboard', 'mouse', 'monitor', 'headset', 'webcam'].map((name, i) => ({ id: i + 1, name }));

export async function up(knex) {
  await knex('items').insert(ITEMS);
}

export async function down(knex) {
  await knex('items').whereIn('id', ITEMS.map((item) => item.id)).delete();
}
