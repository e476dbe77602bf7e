import { aliasFromRules, DEFAULT_ALIAS, type DbTarget } from '../db/aliases.js';
import { DB_STATE } from '../db/runtime.js';
import { currentDistribution } from '../state.js';

/**
 * The `connection` label of a migration source: the DB alias (`setDbAlias`, PROMETHEUS_DB_ALIASES), as the DB
 * families name the same database. A `setDbAlias` on any of `objects` (the tool's instance, its
 * pool or client) wins, then one on the pool a client came from (as for the DB families), then
 * the first matching PROMETHEUS_DB_ALIASES rule, then `default`.
 */
export function migrationConnection(target: DbTarget | undefined, objects: readonly unknown[] = []): string {
  for (const object of objects) {
    const alias = typeof object === 'object' && object !== null ? aliasOf(object) : undefined;
    if (alias !== undefined) return alias;
  }
  const rules = currentDistribution()?.config.dbAliases ?? [];
  return (target === undefined ? undefined : aliasFromRules(rules, target)) ?? DEFAULT_ALIAS;
}

function aliasOf(object: object): string | undefined {
  const pool = DB_STATE.connections.get(object)?.pool;
  return DB_STATE.overrides.get(object) ?? (pool === undefined ? undefined : DB_STATE.overrides.get(pool));
}
