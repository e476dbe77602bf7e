import type { DbTarget } from '../db/aliases.js';

/** A pg `Client` class, as node-pg-migrate's `dbClient` or a pg `Pool` carries it. */
export type PgClientClass = new (config?: unknown) => PgClient;

export interface PgClient {
  host?: string;
  port?: number;
  database?: string;
  connect(): Promise<unknown>;
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
}

/**
 * Where pg connects with `config` (a connection string or client config): pg resolves it itself
 * (connection string, PG* environment, defaults) when a client is constructed, before any
 * connection is made, so the label matches what the DB families see for the same database.
 */
export function pgTarget(Client: PgClientClass, config: unknown): DbTarget {
  const client = new Client(config);
  return { host: client.host, port: client.port, database: client.database };
}
