// An express 5 app as users write it; started with `node --import otel-django-metrics/register`,
// it needs no metrics code except the optional in-app endpoint and a view name for the health route.
import express from 'express';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { metricsHandler, setViewName } from 'otel-django-metrics';
import { openCache } from '../shared/cache.mjs';
import { openDatabase } from '../shared/database.mjs';

const ITEMS = [
  [1, 'keyboard'],
  [2, 'mouse'],
  [3, 'monitor'],
  [4, 'headset'],
  [5, 'webcam'],
];

const db = await openDatabase();
const cache = await openCache();
await db.query('CREATE TABLE IF NOT EXISTS items (id integer PRIMARY KEY, name text NOT NULL)');
await db.query(
  `INSERT INTO items (id, name) VALUES ${ITEMS.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ')} ON CONFLICT (id) DO NOTHING`,
  ITEMS.flat(),
);

const app = express();
app.set('views', fileURLToPath(new URL('./views', import.meta.url)));
app.set('view engine', 'ejs');

app.get('/', async (_req, res) => {
  const items = await db.query('SELECT id, name FROM items ORDER BY id');
  res.render('index', { title: 'otel-django-metrics demo', items });
});

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
