// Plain node:http, serving the bench's route mix like the express app (test/bench/apps/app.mjs):
// GET /health, GET /api/items/:id, everything else 404.
import http from 'node:http';
import { listen } from './listen.mjs';

const ITEM = /^\/api\/items\/([^/?]+)$/;

function json(res, body) {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Answers one request; returns the route template it matched, or undefined for the 404. */
export function handle(req, res) {
  if (req.method === 'GET') {
    if (req.url === '/health') {
      json(res, { status: 'ok' });
      return '/health';
    }
    const m = ITEM.exec(req.url);
    if (m) {
      json(res, { id: m[1], name: `item ${m[1]}`, tags: ['a', 'b'] });
      return '/api/items/:id';
    }
  }
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-length': 9 });
  res.end('Not Found');
  return undefined;
}

/** Serves `handler(req, res)` (default: `handle`). */
export function serveNodeHttp(handler = handle) {
  return listen(http.createServer(handler));
}
