// The classic django-prometheus recipe, in Node: a counter of requests by view, path and referer,
// next to the families the preload exposes. Django users subclass the Metrics class and a
// middleware to add it; here it is one instrument from getMeter() and one middleware that reads
// the request's view with viewOf() when the response is complete. `path` is the raw URL path: keep
// such a label to apps with a bounded set of paths, or it grows a series per URL.
import express from 'express';
import { getMeter, namespaced, viewOf } from 'otel-django-metrics';

const requestsByViewPathReferer = getMeter().createCounter(namespaced('django_http_requests_total_by_view_path_referer'), {
  description: 'Count of requests by view, path, referer.',
});

const app = express();

app.use((req, res, next) => {
  res.on('finish', () => {
    requestsByViewPathReferer.add(1, { view: viewOf(req), path: req.path, referer: req.get('referer') ?? '' });
  });
  next();
});

app.get('/', (_req, res) => res.send('home'));
app.get('/items/:id', (req, res) => res.json({ id: req.params.id }));

const server = app.listen(Number(process.env.PORT ?? 8000), process.env.HOST, (err) => {
  if (err) throw err;
  console.log(`listening ${server.address().port}`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
