/** The proxy and CA keys of the config: validated, resolved, and the proxy password kept a secret. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { applyEnvOverrides, resolveConfig } from './load.js';

const base = () => ({
  source: { type: 'snapshot', path: 'x.json' },
  connect: { clientId: 'a', clientSecret: 'b' } as Record<string, unknown>,
  programs: { VB: { applicationId: 'visma-business' } },
});

function configError(raw: unknown, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    resolveConfig(raw, '/etc/ud-bridge/ud-bridge.yaml', env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('connect.proxy and connect.caFile', () => {
  it('default to no proxy of our own and the environment deciding', () => {
    const c = resolveConfig(base(), '/etc/ud-bridge/ud-bridge.yaml', {});
    expect(c.connect.proxy).toEqual({ noProxy: [], fromEnv: true });
    expect(c.connect.network).toEqual({ httpProxy: null, httpsProxy: null, noProxy: [], caFile: null });
  });

  it('resolve the proxy password as a secret, the CA file against the config folder, and the route', () => {
    const dir = mkdtempSync(join(tmpdir(), 'udb-cfg-'));
    writeFileSync(join(dir, 'proxy-pw'), 'from-a-file\n');
    const raw = base();
    raw.connect.proxy = { url: 'http://proxy.corp:3128', username: 'svc', password: { file: 'proxy-pw' }, noProxy: ['.corp.local'] };
    raw.connect.caFile = 'certs/corp-ca.pem';
    const c = resolveConfig(raw, join(dir, 'ud-bridge.yaml'), {});
    expect(c.secretValues).toContain('from-a-file');
    expect(c.connect.caFile).toBe(join(dir, 'certs', 'corp-ca.pem'));
    expect(c.connect.network).toEqual({
      httpProxy: { url: 'http://proxy.corp:3128', from: 'connect.proxy.url', auth: { username: 'svc', password: 'from-a-file', from: 'connect.proxy.username' } },
      httpsProxy: { url: 'http://proxy.corp:3128', from: 'connect.proxy.url', auth: { username: 'svc', password: 'from-a-file', from: 'connect.proxy.username' } },
      noProxy: ['.corp.local'],
      caFile: join(dir, 'certs', 'corp-ca.pem'),
    });
  });

  it('take HTTPS_PROXY from the environment, its password going to the redactor', () => {
    const c = resolveConfig(base(), '/etc/ud-bridge/ud-bridge.yaml', { HTTPS_PROXY: 'http://svc:env-pw@proxy.corp:3128', NO_PROXY: 'localhost' });
    expect(c.connect.network.httpsProxy).toMatchObject({ url: 'http://proxy.corp:3128', from: 'HTTPS_PROXY' });
    expect(c.connect.network.noProxy).toEqual(['localhost']);
    expect(c.secretValues).toContain('env-pw');
  });

  it('can be set by UDB_ environment overrides', () => {
    const raw = base();
    const env = { UDB_CONNECT__PROXY__URL: 'http://proxy.corp:8080', UDB_CONNECT__CA_FILE: '/etc/ssl/corp.pem' };
    applyEnvOverrides(raw, env);
    const c = resolveConfig(raw, '/etc/ud-bridge/ud-bridge.yaml', env);
    expect(c.connect.network).toMatchObject({ httpsProxy: { url: 'http://proxy.corp:8080', from: 'connect.proxy.url' }, caFile: '/etc/ssl/corp.pem' });
  });

  it.each([
    [{ url: 'ftp://proxy:21' }, 'connect.proxy.url', /http:\/\/host:port/],
    [{ url: 'http://svc:pw@proxy:3128' }, 'connect.proxy.url', /without credentials: put them in connect\.proxy\.username and connect\.proxy\.password/],
    [{ url: 'http://proxy:3128', username: 'svc' }, 'connect.proxy.password', /username and connect\.proxy\.password together/],
    [{ noProxy: 'a,b' }, 'connect.proxy.noProxy', /expected array/],
    [{ fromEnv: 'no' }, 'connect.proxy.fromEnv', /expected boolean/],
    [{ port: 3128 }, 'connect.proxy', /port/],
  ] as const)('refuse %j naming %s', (proxy, key, expected) => {
    const raw = base();
    raw.connect.proxy = proxy;
    const e = configError(raw);
    expect(e.key).toBe(key);
    expect(e.message).toMatch(expected);
  });

  it('a bad proxy in the environment names the variable, except for commands that never connect', () => {
    const e = configError(base(), { https_proxy: 'socks5://p:1080' });
    expect(e.key).toBe('https_proxy (environment)');
    const local = resolveConfig(base(), '/etc/ud-bridge/ud-bridge.yaml', { https_proxy: 'socks5://p:1080' }, 'skip');
    expect(local.connect.network.httpsProxy).toBeNull();
  });
});
