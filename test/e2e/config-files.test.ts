/** The shipped config files stay valid against the one schema, and config errors name the key. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, resolveConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { ROOT } from '../support/harness.js';

describe('config files', () => {
  it('the embedded default and the production example are valid', () => {
    const embedded = loadConfig({ path: join(ROOT, 'config', 'ud-bridge.yaml'), env: {} });
    expect(embedded.connect.mode).toBe('embedded');
    expect(embedded.source.type).toBe('snapshot');
    const example = loadConfig({ path: join(ROOT, 'config', 'ud-bridge.example.yaml'), env: { UD_BRIDGE_SQL_PASSWORD: 'x', UD_BRIDGE_CONNECT_SECRET: 'y', UD_BRIDGE_DAEMON_TOKEN: 'a-token-of-16-chars' } });
    expect(example.source.type).toBe('sqlserver');
    expect(example.secretValues).toEqual(['y', 'a-token-of-16-chars', 'x']);
  });

  it('a missing secret names its key and the variable', () => {
    expect(() => loadConfig({ path: join(ROOT, 'config', 'ud-bridge.example.yaml'), env: {} })).toThrow(/connect\.clientSecret: expected environment variable UD_BRIDGE_CONNECT_SECRET to be set/);
  });

  it('commands that only read local files load the config without its secrets', () => {
    const c = loadConfig({ path: join(ROOT, 'config', 'ud-bridge.example.yaml'), env: {}, secrets: 'skip' });
    expect(c.paths.journal).toBe('/var/log/ud-bridge/journal');
    expect(c.secretValues).toEqual([]);
  });

  it('a manual run loads the config without the daemon HTTP token, which only the service may have', () => {
    const base = { source: { type: 'snapshot', path: 'x.json' }, connect: { clientId: 'a', clientSecret: { env: 'SECRET' } }, programs: { VB: { applicationId: 'visma-business' } }, daemon: { http: { token: { env: 'UDB_HTTP_TOKEN' } } } };
    const env = { SECRET: 'connect-secret-value' };
    expect(() => resolveConfig(structuredClone(base), '/tmp/c.yaml', env)).toThrow(/daemon\.http\.token: expected environment variable UDB_HTTP_TOKEN to be set/);
    const c = resolveConfig(structuredClone(base), '/tmp/c.yaml', env, 'run');
    expect(c.connect.clientSecret).toBe('connect-secret-value');
    expect(c.daemon.http.token).toBeUndefined();
  });

  it('a wrong value names the key and what was expected', () => {
    const base = { source: { type: 'snapshot', path: 'x.json' }, connect: { clientId: 'a', clientSecret: 'b' }, programs: { VB: { applicationId: 'visma-business' } } };
    const err = (() => {
      try {
        resolveConfig({ ...base, apply: { concurrency: 'lots' } }, '/tmp/c.yaml', {});
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).key).toBe('apply.concurrency');
    expect((err as Error).message).toMatch(/config apply\.concurrency: .*expected number/);
    expect(() => resolveConfig({ ...base, programs: {} }, '/tmp/c.yaml', {})).toThrow(/programs: expected at least one program/);
    // A sub-schema whose messages carry the key already: the key is said once.
    expect(() => resolveConfig({ ...base, daemon: { http: { token: 'short' } } }, '/tmp/c.yaml', {})).toThrow(/^config daemon\.http\.token: expected at least 16 characters/);
  });

  it('environment overrides reach nested keys', () => {
    const c = loadConfig({ path: join(ROOT, 'config', 'ud-bridge.yaml'), env: { UDB_APPLY__CONCURRENCY: '3', UDB_POLICY__TENANT_SOFT_MATCH: 'false', UDB_CONNECT__CLIENT_ID: 'other' } });
    expect(c.apply.concurrency).toBe(3);
    expect(c.policy.tenantSoftMatch).toBe(false);
    expect(c.connect.clientId).toBe('other');
  });
});
