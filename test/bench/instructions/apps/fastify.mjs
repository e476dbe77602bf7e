// Bare fastify (fastify-app.mjs); the preload variants run it with `--import`.
import { serveFastify } from './fastify-app.mjs';

await serveFastify();
