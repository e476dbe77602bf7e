import { readFileSync, statSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { createServer, type Server, type ServerOptions } from 'node:https';
import { createSecureContext } from 'node:tls';
import { safe } from '../contain.js';
import type { Logger } from '../log.js';

export interface TlsFiles {
  /** PEM certificate (chain) file. */
  cert: string;
  /** PEM private key file. */
  key: string;
}

/** What identifies a file's content without reading it; stat follows symlinks, so a swapped link target differs too. */
function fileState(path: string): string {
  try {
    const s = statSync(path, { bigint: true, throwIfNoEntry: false });
    return s === undefined ? 'absent' : `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch (e) {
    return `error ${(e as NodeJS.ErrnoException).code}`;
  }
}

/**
 * An HTTPS server whose certificate and key come from two PEM files, read again when either file
 * changes. The check runs at each new connection, before its handshake, so a rotated certificate
 * is served from the next scrape on, without a restart; comparing stat results (not watching)
 * also sees a Kubernetes secret volume swap its `..data` symlink. A pair that cannot be loaded
 * (missing, unreadable, not PEM, key and certificate not matching, as in the middle of a rotation)
 * is one line per state of the files: the pair loaded before stays in use, and until one has
 * loaded every handshake fails. Never plain HTTP: a scraper configured for TLS must notice. A pair
 * loaded after the start is one line too.
 */
export function httpsServer(files: TlsFiles, options: ServerOptions, listener: RequestListener, log: Logger): Server {
  const server = createServer(options, listener);
  const pair = `TLS certificate ${files.cert} and key ${files.key}`;
  let seen: string | undefined;
  let loaded = false;
  const load = () => {
    const state = `${fileState(files.cert)} ${fileState(files.key)}`;
    if (state === seen) return;
    const first = seen === undefined;
    seen = state;
    let context: { cert: Buffer; key: Buffer };
    try {
      context = { cert: readFileSync(files.cert), key: readFileSync(files.key) };
      // Validated first: a pair that fails must leave the server's current context untouched.
      createSecureContext(context);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      log(`cannot load the ${pair} (${reason}); ${loaded ? 'serving the pair loaded before' : 'refusing every TLS handshake until they load'}`);
      return;
    }
    server.setSecureContext(context);
    if (!first) log(`reloaded the ${pair}`);
    loaded = true;
  };
  load();
  // Before the server's own connection listener, which starts the handshake with the context set now.
  server.prependListener('connection', safe('metrics server TLS reload', load));
  return server;
}
