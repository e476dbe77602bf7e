// hapi 21, serving the bench's route mix (test/bench/apps/routes.mjs LOAD_MIX) like the express app
// (test/bench/apps/app.mjs): GET /health, GET /api/items/{id}, everything else the framework's 404.
import Hapi from '@hapi/hapi';
import { announce } from './listen.mjs';

const server = Hapi.server({ port: 0, host: '127.0.0.1', debug: false });
server.route({ method: 'GET', path: '/health', handler: () => ({ status: 'ok' }) });
server.route({
  method: 'GET',
  path: '/api/items/{id}',
  handler: (request) => {
    const { id } = request.params;
    return { id, name: `item ${id}`, tags: ['a', 'b'] };
  },
});
await server.start();
announce(server.listener);
