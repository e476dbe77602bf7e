// Bare node:http (node-http-app.mjs); the preload variants run it with `--import`.
import { serveNodeHttp } from './node-http-app.mjs';

serveNodeHttp();
