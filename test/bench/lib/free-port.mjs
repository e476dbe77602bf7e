// One free-port helper for the bench, the startup script and the test support.
import { createServer } from 'node:net';

/** A port the OS says is free right now (for ports that must be chosen before a child is spawned). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}
