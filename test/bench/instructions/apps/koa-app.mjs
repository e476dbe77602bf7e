// koa 3 + @koa/router, serving the bench's route mix like the express app (test/bench/apps/app.mjs):
// GET /health, GET /api/items/:id, everything else the framework's 404. Variants differ only by
// what `install` adds in front of the router.
import Router from '@koa/router';
import Koa from 'koa';
import { announce } from './listen.mjs';

export function serveKoa({ install } = {}) {
  const app = new Koa();
  install?.(app);
  const router = new Router();
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/api/items/:id', (ctx) => {
    const { id } = ctx.params;
    ctx.body = { id, name: `item ${id}`, tags: ['a', 'b'] };
  });
  app.use(router.routes());
  const server = app.listen(0, '127.0.0.1', () => announce(server));
}
