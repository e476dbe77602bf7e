import type { DbAliasRule } from '../config.js';

/** Where a connection points, as the driver resolved it (connection strings already parsed). */
export interface DbTarget {
  readonly host?: string | undefined;
  readonly port?: number | string | undefined;
  readonly database?: string | undefined;
}

export const DEFAULT_ALIAS = 'default';

/**
 * What an alias may look like: the characters PROMETHEUS_DB_ALIASES accepts, bounded in length.
 * A DSN (`:`, `/`, `@`) can never pass, so no connection string or password reaches a label.
 */
const ALIAS = /^[A-Za-z0-9_.-]{1,64}$/;

export function isValidAlias(alias: unknown): alias is string {
  return typeof alias === 'string' && ALIAS.test(alias);
}

/** The first PROMETHEUS_DB_ALIASES rule whose every given part (host, port, database) matches. */
export function aliasFromRules(rules: readonly DbAliasRule[], target: DbTarget): string | undefined {
  const host = typeof target.host === 'string' ? target.host.toLowerCase() : undefined;
  const port = target.port === undefined ? undefined : Number(target.port);
  for (const rule of rules) {
    if (rule.host !== undefined && rule.host.toLowerCase() !== host) continue;
    if (rule.port !== undefined && rule.port !== port) continue;
    if (rule.database !== undefined && rule.database !== target.database) continue;
    return rule.alias;
  }
  return undefined;
}
