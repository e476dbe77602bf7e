import type { IncomingMessage, ServerResponse } from 'node:http';
import { contain, hookFailed } from '../contain.js';

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The contained site of the scrape writer, whichever endpoint it writes for. */
export const SCRAPE_SITE = 'metrics scrape';

/** Ends a response our own code failed to write: a 500 if nothing was sent yet; a started body can only be cut short. */
export function answerFailure(res: ServerResponse): void {
  contain(SCRAPE_SITE, () => {
    if (res.headersSent) res.destroy();
    else res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('metrics collection failed\n');
  });
}

/**
 * `handle` as a request listener that never throws into the server it is mounted on (the app's
 * own server, for the in-app handlers): a throw is reported once for `site` and answered with a 500.
 */
export function containedEndpoint(site: string, handle: NodeHandler): NodeHandler {
  return (req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      hookFailed(site, err);
      answerFailure(res);
    }
  };
}
