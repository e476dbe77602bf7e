import { createServer, type Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { admitted } from './auth.js';
import { containedEndpoint } from './contained-endpoint.js';
import { ENDPOINT_DEFAULTS, type EndpointSettings } from './endpoint-settings.js';
import { markOwnServer } from './own-server.js';
import { respondWithMetrics } from './respond.js';
import { scrapeSlots, serverOptions, SERVER_LIMITS, type ServerLimits } from './server-limits.js';
import { sourceOf } from './scrape-source.js';
import { httpsServer } from './tls.js';

const TEXT = { 'Content-Type': 'text/plain; charset=utf-8' };

type Address = Pick<Config, 'port' | 'portRange' | 'address'>;

/**
 * The dedicated metrics server: `GET /metrics` only, never counted, never keeping the app alive
 * (unref), never fatal (a port in use is one line, then the app runs on without it), and never
 * held by a stalled scraper (`limits`; tests pass short ones). A request without the credentials
 * the settings require is refused whatever its path. HTTPS when the settings name a certificate;
 * no server listens when they are half a TLS setting (the line was printed when they were read).
 */
export function startMetricsServer(
  config: Address & { endpoint?: EndpointSettings },
  scrape: () => Promise<string>,
  log: Logger,
  limits: ServerLimits = SERVER_LIMITS,
): { server: Server | HttpsServer; port: Promise<number | undefined> } {
  const { access, transport } = config.endpoint ?? ENDPOINT_DEFAULTS;
  if (transport.kind === 'none') return { server: createServer(), port: Promise.resolve(undefined) };
  const source = sourceOf(scrape);
  const admit = scrapeSlots(limits);
  const listener = containedEndpoint('metrics server', (req, res) => {
    if (!admitted(access, req, res)) return;
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/metrics/') {
      res.writeHead(404, TEXT).end('Not Found\n');
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', ...TEXT }).end('Method Not Allowed\n');
    } else if (!admit(res)) {
      res.writeHead(503, { 'Retry-After': '1', ...TEXT }).end('Too many concurrent scrapes\n');
    } else {
      respondWithMetrics(source, req, res);
    }
  });
  const server =
    transport.kind === 'https'
      ? // A stalled handshake is held no longer than a stalled request.
        httpsServer(transport, { ...serverOptions(limits), handshakeTimeout: limits.headersMs }, listener, log)
      : createServer(serverOptions(limits), listener);
  markOwnServer(server);
  server.unref();
  // Keep-alive scrape connections must not keep the app alive either.
  server.on('connection', (socket) => socket.unref());
  return { server, port: listen(server, config, log) };
}

async function listen(server: Server | HttpsServer, config: Address, log: Logger): Promise<number | undefined> {
  if (config.portRange) {
    const [first, last] = config.portRange;
    for (let port = first; port <= last; port++) {
      // Exclusive: a node:cluster worker would otherwise share the handle of the first worker that
      // took the port (cluster's listen), and scrapes of that port would go to either of them.
      if (await tryListen(server, port, config.address, true)) {
        log(`Exporting Prometheus /metrics/ on port ${port}`);
        return port;
      }
    }
    log('Cannot export Prometheus /metrics/ - no available ports in supplied range');
    return undefined;
  }
  if (config.port === undefined) return undefined;
  const ok = await tryListen(server, config.port, config.address, false);
  if (ok) return config.port;
  log(`cannot listen on ${config.address ?? '*'}:${config.port} (${ok === false ? 'in use' : 'unavailable'}); serving no dedicated /metrics endpoint`);
  return undefined;
}

/** Resolves true when listening, false when the port is taken, null on any other bind error. */
function tryListen(server: Server | HttpsServer, port: number, host: string | undefined, exclusive: boolean): Promise<boolean | null> {
  return new Promise((resolve) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      resolve(err.code === 'EADDRINUSE' ? false : null);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(true);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host, exclusive });
  });
}
