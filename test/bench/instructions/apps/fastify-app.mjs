// fastify 5, serving the bench's route mix (test/bench/apps/routes.mjs LOAD_MIX) like the express app
// (test/bench/apps/app.mjs): GET /health, GET /api/items/:id, everything else the framework's 404.
// Variants differ only by what `install` registers before the routes.
import Fastify from 'fastify';
import { announce } from './listen.mjs';

export async function serveFastify({ install } = {}) {
  const app = Fastify({ logger: false });
  await install?.(app);
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/api/items/:id', async (request) => {
    const { id } = request.params;
    return { id, name: `item ${id}`, tags: ['a', 'b'] };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  announce(app.server);
}
