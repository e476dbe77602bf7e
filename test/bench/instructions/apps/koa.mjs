// Bare koa (koa-app.mjs); the preload variants run it with `--import`.
import { serveKoa } from './koa-app.mjs';

serveKoa();
