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
    // And the `id:secret` pair HTTP Basic sends, so base64(id:secret) is redacted like the secret.
    expect(example.secretValues).toEqual(['y', 'a-token-of-16-chars', 'x', `${example.connect.clientId}:y`]);
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

  it('webhooks: off by default; when on, a secret, a source that writes profiles, and both TLS files are required, each error naming its key', () => {
    const base = { source: { type: 'snapshot', path: 'x.json' }, connect: { clientId: 'a', clientSecret: 'b' }, programs: { VB: { applicationId: 'visma-business' } } };
    const sql = { type: 'sqlserver', sqlserver: { server: 'db', database: 'VUD', auth: { type: 'sql', user: 'u', password: 'p' }, writeback: { profiles: true } } };
    const off = resolveConfig(base, '/etc/udb/c.yaml', {});
    expect(off.webhooks).toMatchObject({ enabled: false, host: '127.0.0.1', port: 8788, path: '/webhooks/connect', maxBodyBytes: 65536 });
    expect(off.webhooks.headers).toEqual({ signature: 'x-vwd-signature-v1', notificationId: 'x-vwd-notification-id', timestamp: 'x-vwd-webhook-timestamp' });
    expect(off.policy.profileFields).toEqual(['email', 'firstName', 'lastName']);
    expect(off.policy.journalEmails).toBe('masked');

    const on = resolveConfig(
      { ...base, source: sql, webhooks: { enabled: true, secret: { env: 'HOOK' }, previousSecret: { file: 'old.secret' }, tls: { cert: 'hook.crt', key: '/k/hook.key' }, headers: { signature: 'X-Signature' } } },
      '/etc/udb/c.yaml',
      { HOOK: 'new-hook-secret' },
      'skip',
    );
    expect(on.webhooks.tls).toEqual({ cert: '/etc/udb/hook.crt', key: '/k/hook.key' });
    expect(on.webhooks.headers.signature).toBe('x-signature');
    const resolved = resolveConfig({ ...base, source: sql, webhooks: { enabled: true, secret: { env: 'HOOK' } } }, '/etc/udb/c.yaml', { HOOK: 'new-hook-secret' });
    expect(resolved.secretValues).toContain('new-hook-secret');

    expect(() => resolveConfig({ ...base, source: sql, webhooks: { enabled: true } }, '/tmp/c.yaml', {})).toThrow(/^config webhooks\.secret: expected the subscription secret/);
    expect(() => resolveConfig({ ...base, webhooks: { enabled: true, secret: 's' } }, '/tmp/c.yaml', {})).toThrow(/^config webhooks\.enabled: expected a source that writes profiles back/);
    expect(() => resolveConfig({ ...base, webhooks: { tls: { cert: 'a.crt' } } }, '/tmp/c.yaml', {})).toThrow(/^config webhooks\.tls\.key: expected the path of a PEM private key/);
    expect(() => resolveConfig({ ...base, webhooks: { path: 'hooks' } }, '/tmp/c.yaml', {})).toThrow(/^config webhooks\.path: expected a URL path starting with '\/'/);
    expect(() => resolveConfig({ ...base, webhooks: { headers: { signature: 'x sig' } } }, '/tmp/c.yaml', {})).toThrow(/^config webhooks\.headers\.signature: expected an HTTP header name/);
    expect(() => resolveConfig({ ...base, policy: { profileFields: ['phone'] } }, '/tmp/c.yaml', {})).toThrow(/^config policy\.profileFields\.0: expected 'email', 'firstName' or 'lastName'/);
    expect(() => resolveConfig({ ...base, webhooks: { secret: { env: 'NOPE' } } }, '/tmp/c.yaml', {})).toThrow(/webhooks\.secret: expected environment variable NOPE to be set/);
  });

  it('environment overrides reach nested keys', () => {
    const c = loadConfig({ path: join(ROOT, 'config', 'ud-bridge.yaml'), env: { UDB_APPLY__CONCURRENCY: '3', UDB_POLICY__TENANT_SOFT_MATCH: 'false', UDB_CONNECT__CLIENT_ID: 'other' } });
    expect(c.apply.concurrency).toBe(3);
    expect(c.policy.tenantSoftMatch).toBe(false);
    expect(c.connect.clientId).toBe('other');
  });
});
