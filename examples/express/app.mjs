// An express 5 app as users write it; started with `node --import otel-django-metrics/register`,
// it needs no metrics code except the optional in-app endpoint, a view name for the health route
// and the registration of the model whose writes it wants counted.
import express from 'express';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { exportModelOperations, metricsHandler, setViewName } from 'otel-django-metrics';
import { DataTypes } from 'sequelize';
import { openCache } from '../shared/cache.mjs';
import { openDatabase } from '../shared/database.mjs';

const db = await openDatabase();
const cache = await openCache();
// Writes go through the model: each create, save and destroy counts in django_model_*_total{model="item"}.
const Item = exportModelOperations(
  db.sequelize.define('Item', { id: { type: DataTypes.INTEGER, primaryKey: true }, name: DataTypes.TEXT, stock: DataTypes.INTEGER }, { tableName: 'items', timestamps: false }),
  'item',
);

const app = express();
app.set('views', fileURLToPath(new URL('./views', import.meta.url)));
app.set('view engine', 'ejs');

app.get('/', async (_req, res) => {
  const items = await db.query('SELECT id, name FROM items ORDER BY id');
  res.render('index', { title: 'otel-django-metrics demo', items });
});

// An old address kept working: a 302 to the page.
app.get('/home', (_req, res) => res.redirect('/'));

// Read-through cache: the first GET of an item is a cache miss and a query, the next ones hits.
app.get('/api/items/:id', async (req, res) => {
  const key = `item:${req.params.id}`;
  const cached = await cache.get(key);
  if (cached !== undefined) return res.json(JSON.parse(cached));
  const [item] = await db.query('SELECT id, name FROM items WHERE id = $1', [Number(req.params.id) || 0]);
  if (item === undefined) return res.status(404).json({ error: 'no such item' });
  await cache.set(key, JSON.stringify(item));
  res.json(item);
});

app.post('/api/items', express.json(), async (req, res) => {
  const item = await Item.create({ id: Number(req.body.id), name: String(req.body.name) });
  res.status(201).json(item);
});

app.patch('/api/items/:id', express.json(), async (req, res) => {
  const item = await Item.findByPk(Number(req.params.id) || 0);
  if (item === null) return res.status(404).json({ error: 'no such item' });
  await item.update({ stock: Number(req.body.stock) || 0 });
  res.json(item);
});

app.delete('/api/items/:id', async (req, res) => {
  const item = await Item.findByPk(Number(req.params.id) || 0);
  if (item === null) return res.status(404).json({ error: 'no such item' });
  await item.destroy();
  res.status(204).end();
});

app.get('/api/slow', async (req, res) => {
  const ms = Math.min(Number(req.query.ms) || 300, 5000);
  await sleep(ms);
  res.json({ sleptMs: ms });
});

// Express 5 forwards the rejection to the error handler below: a 500, counted as an exception.
app.get('/api/boom', async () => {
  throw new Error('boom');
});

// The django-mixin hides this view name from its panels (dashboards.md section 4).
app.get('/health', (req, res) => {
  setViewName(req, 'health_check:health_check_home');
  res.json({ status: 'ok' });
});

app.get('/metrics', metricsHandler());

app.use((err, _req, res, _next) => {
  res.status(500).json({ error: err.message });
});

const server = app.listen(Number(process.env.PORT ?? 8000), process.env.HOST, (err) => {
  if (err) throw err;
  console.log(`listening ${server.address().port}`);
});

async function shutdown() {
  server.close();
  server.closeAllConnections();
  await Promise.allSettled([db.close(), cache.close()]);
  process.exit(0);
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
