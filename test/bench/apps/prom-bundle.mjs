// express-prom-bundle as its README sets it up: one histogram, path normalised by url-value-parser.
import promBundle from 'express-prom-bundle';
import { createApp, serve } from './app.mjs';

serve(createApp({
  install: (app) => app.use(promBundle({ includeMethod: true, includePath: true, includeStatusCode: true })),
}));
