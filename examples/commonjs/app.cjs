// A CommonJS app (plain `require`): `node --import otel-django-metrics/register app.cjs` measures it
// like an ESM app, and the package's API works from `require` too (one shared distribution).
'use strict';
const express = require('express');
const { metricsHandler, setViewName } = require('otel-django-metrics');

const items = new Map([
  ['1', { id: 1, name: 'keyboard' }],
  ['2', { id: 2, name: 'mouse' }],
]);

const app = express();

app.get('/', (_req, res) => {
  res.type('html').send('<!doctype html><title>CommonJS example</title><h1>CommonJS example</h1>');
});

app.get('/api/items/:id', (req, res) => {
  const item = items.get(req.params.id);
  if (item === undefined) return res.status(404).json({ error: 'no such item' });
  res.json(item);
});

app.get('/api/boom', () => {
  throw new TypeError('boom');
});

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

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
  });
}
