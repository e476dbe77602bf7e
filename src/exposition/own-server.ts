import type { Server } from 'node:http';

/** Marks the package's dedicated metrics server: its requests are never counted (metrics.md section 2). */
const kOwnServer = Symbol.for('otel-django-metrics.own-server');

export function markOwnServer(server: Server): void {
  (server as Server & { [kOwnServer]?: true })[kOwnServer] = true;
}

export function isOwnServer(server: unknown): boolean {
  return (server as { [kOwnServer]?: true } | null | undefined)?.[kOwnServer] === true;
}
