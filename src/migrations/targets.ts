import type { DbTarget } from '../db/aliases.js';

/** The database a tool's connection points at, as the DB families would label it. */

/** Connection settings as the tools hold them: fields, or a connection URL. */
export interface ConnectionSettings {
  host?: unknown;
  port?: unknown;
  database?: unknown;
  url?: unknown;
}

/** The port each driver family connects to when none is given, so that PROMETHEUS_DB_ALIASES rules written for the DB families (which see the driver's resolved port) match here too. */
const DEFAULT_PORTS: ReadonlyArray<[RegExp, number]> = [
  [/postgres|^pg$|cockroach/i, 5432],
  [/mysql|mariadb/i, 3306],
];

/** Where a tool's connection points, for the `connection` label and the source key. */
export function dbTarget(settings: ConnectionSettings, family: string): DbTarget {
  const fromUrl = typeof settings.url === 'string' ? urlTarget(settings.url) : {};
  const host = text(settings.host) ?? fromUrl.host;
  const database = text(settings.database) ?? fromUrl.database;
  const given = settings.port ?? fromUrl.port;
  const port = typeof given === 'number' || typeof given === 'string' ? Number(given) : DEFAULT_PORTS.find(([pattern]) => pattern.test(family))?.[1];
  return { host, port, database };
}

function urlTarget(url: string): DbTarget {
  try {
    const parsed = new URL(url);
    return { host: parsed.hostname || undefined, port: parsed.port || undefined, database: decodeURIComponent(parsed.pathname.slice(1)) || undefined };
  } catch {
    return {};
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

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
