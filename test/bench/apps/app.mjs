// The one express 5 app every variant serves; variants differ only by what `install` adds in front
// of the routes (or by a --import preload), so the measured difference is the metrics layer alone.
import express from 'express';
import { attachControl } from './control.mjs';
import { scrapeRoutes } from './routes.mjs';

export function createApp({ install } = {}) {
  const app = express();
  install?.(app);
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/api/items/:id', (req, res) => {
    res.json({ id: req.params.id, name: `item ${req.params.id}`, tags: ['a', 'b'] });
  });
  // Only the scrape phase sets BENCH_ROUTES; other phases run the small app.
  const routers = new Map();
  for (const { mount, path } of scrapeRoutes(Number(process.env.BENCH_ROUTES || 0))) {
    if (!routers.has(mount)) routers.set(mount, express.Router());
    routers.get(mount).all(path, (req, res) => {
      res.status(Number(req.params.code)).json({ ok: true });
    });
  }
  for (const [mount, router] of routers) app.use(mount, router);
  return app;
}

/** Listens on 127.0.0.1 (port from the OS) and tells the harness which port over IPC. */
export function serve(app) {
  const server = app.listen(0, '127.0.0.1', (err) => {
    if (err) throw err;
    const { port } = server.address();
    if (process.send) process.send({ type: 'listening', port });
    else console.log(`listening on http://127.0.0.1:${port}`);
  });
  attachControl(server);
  return server;
}
