// Listening for the instruction-count apps, as test/bench/apps/app.mjs's serve() does for express
// (that module imports express, so the other frameworks' apps cannot use it): 127.0.0.1, a port
// from the OS, "listening" to the harness over IPC, and the bench's control channel (request counter).
import { attachControl } from '../../apps/control.mjs';

/** server: a listening node:http Server. */
export function announce(server) {
  attachControl(server);
  const { port } = server.address();
  if (process.send) process.send({ type: 'listening', port });
  else console.log(`listening on http://127.0.0.1:${port}`);
}

/** Listens a node:http Server (or anything with the same listen()) and announces it. */
export function listen(server) {
  server.listen(0, '127.0.0.1', () => announce(server));
  return server;
}
