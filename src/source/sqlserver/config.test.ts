import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../errors.js';
import { parseSqlServerSourceConfig } from './config.js';

const minimal = { server: 'vud.local', database: 'VUD', auth: { type: 'sql', user: 'ud_bridge', password: 's' } };

function configError(raw: unknown): ConfigError {
  try {
    parseSqlServerSourceConfig(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('sqlServerSourceSchema', () => {
  it('fills safe defaults: encrypted, certificate checked, links written back, profiles not', () => {
    const c = parseSqlServerSourceConfig(minimal);
    expect(c.encrypt).toBe(true);
    expect(c.trustServerCertificate).toBe(false);
    expect(c.writeback).toEqual({ links: true, profiles: false, batchSize: 200 });
    expect(c.pool).toEqual({ max: 4, min: 0, idleTimeoutMs: 30_000 });
    expect(c.reconnect).toEqual({ attempts: 3, initialDelayMs: 1_000, maxDelayMs: 30_000 });
    expect(c.queries).toEqual({});
  });

  it('accepts NTLM auth and a named instance', () => {
    const c = parseSqlServerSourceConfig({ ...minimal, instanceName: 'VISMA', auth: { type: 'ntlm', domain: 'CORP', user: 'svc', password: 'p' } });
    expect(c.auth).toEqual({ type: 'ntlm', domain: 'CORP', user: 'svc', password: 'p' });
    expect(c.instanceName).toBe('VISMA');
  });

  it('names the key and what was expected', () => {
    expect(configError({ ...minimal, database: '' }).message).toBe('config source.sqlserver.database: expected the VUD database name, not an empty string');
    expect(configError({ ...minimal, port: 70000 }).key).toBe('source.sqlserver.port');
    expect(configError({ ...minimal, auth: { type: 'kerberos' } }).message).toContain('expected auth.type to be "sql" or "ntlm"');
    expect(configError({ ...minimal, auth: { type: 'ntlm', user: 'u', password: 'p' } }).key).toBe('source.sqlserver.auth.domain');
    expect(configError({ ...minimal, port: 1433, instanceName: 'X' }).message).toBe('config source.sqlserver.instanceName: expected either port or instanceName, not both');
    expect(configError({ ...minimal, writeback: { batchSize: 1000 } }).key).toBe('source.sqlserver.writeback.batchSize');
    expect(configError({ ...minimal, queries: { tenants: 'SELECT 1' } }).key).toBe('source.sqlserver.queries');
    expect(configError({ ...minimal, reconnect: { initialDelayMs: 5_000, maxDelayMs: 10 } }).key).toBe('source.sqlserver.reconnect.maxDelayMs');
    expect(configError({ ...minimal, colour: 'blue' }).key).toBe('source.sqlserver');
  });
});
