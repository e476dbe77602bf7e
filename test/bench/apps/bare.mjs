// Bare express: the reference. Also the entry for the preload variants (ours, stock OTel),
// which add their metrics with `node --import <preload> bare.mjs` and no code change.
import { createApp, serve } from './app.mjs';

serve(createApp());
