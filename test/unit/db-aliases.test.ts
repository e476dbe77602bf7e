import { describe, expect, test } from 'vitest';
import { aliasFromRules, isValidAlias } from '../../src/db/aliases.js';
import { readConfig } from '../../src/config.js';

const rules = (raw: string) => readConfig({ PROMETHEUS_DB_ALIASES: raw }, () => {}).dbAliases;

describe('PROMETHEUS_DB_ALIASES matching (metrics.md section 4)', () => {
  const configured = rules('replica=db2:5432/app,audit=/audit,edge=cache-host,ported=:6543');

  test.each([
    [{ host: 'db2', port: 5432, database: 'app' }, 'replica'],
    [{ host: 'DB2', port: '5432', database: 'app' }, 'replica'], // host case-insensitive, port as a string
    [{ host: 'db2', port: 5433, database: 'app' }, undefined], // every given part must match
    [{ host: 'anywhere', port: 3306, database: 'audit' }, 'audit'],
    [{ host: 'cache-host', port: 1, database: 'x' }, 'edge'],
    [{ host: 'other', port: 6543, database: 'x' }, 'ported'],
    [{ host: 'other', port: 5432, database: 'x' }, undefined],
    [{}, undefined],
  ])('%j -> %s', (target, alias) => {
    expect(aliasFromRules(configured, target)).toBe(alias);
  });

  test('the first matching rule wins', () => {
    expect(aliasFromRules(rules('first=/app,second=db2'), { host: 'db2', database: 'app' })).toBe('first');
  });
});

describe('setDbAlias values', () => {
  test.each(['replica', 'db_2', 'eu-west.1', 'a'.repeat(64)])('accepted: %s', (alias) => {
    expect(isValidAlias(alias)).toBe(true);
  });

  test.each(['', 'a'.repeat(65), 'postgres://user:secret@db/app', 'has space', 'db:5432', 42, undefined])('refused: %s', (alias) => {
    expect(isValidAlias(alias)).toBe(false);
  });
});
