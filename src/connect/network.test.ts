import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { describeRoute, envProxyPasswords, networkSettings, noProxyMatch, readCaBundle, routeFor, type NetworkConfig } from './network.js';

const none: NetworkConfig = { proxy: { noProxy: [], fromEnv: true } };
const url = (u: string) => new URL(u);

describe('networkSettings', () => {
  it('is direct with nothing configured and nothing in the environment', () => {
    const s = networkSettings(none, {});
    expect(s).toEqual({ httpProxy: null, httpsProxy: null, noProxy: [], caFile: null });
    expect(describeRoute(routeFor(s, url('https://connect.visma.com/connect/token')))).toBe('direct');
  });

  it('takes HTTPS_PROXY for https targets and HTTP_PROXY for http ones, lower-case first, and HTTP_PROXY for https when alone', () => {
    const s = networkSettings(none, { HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2', HTTP_PROXY: 'plain:3' });
    expect(s.httpsProxy).toMatchObject({ url: 'http://lower:2', from: 'https_proxy', auth: null });
    expect(s.httpProxy).toMatchObject({ url: 'http://plain:3', from: 'HTTP_PROXY' });
    expect(networkSettings(none, { HTTP_PROXY: 'http://only:3128' }).httpsProxy).toMatchObject({ url: 'http://only:3128', from: 'HTTP_PROXY' });
  });

  it('reads credentials in an environment proxy URL, never keeps them in the printed URL, and lists the password for the redactor', () => {
    const env = { HTTPS_PROXY: 'http://al%40ice:p%3Ass@proxy.corp:3128' };
    const s = networkSettings(none, env);
    expect(s.httpsProxy).toEqual({ url: 'http://proxy.corp:3128', from: 'HTTPS_PROXY', auth: { username: 'al@ice', password: 'p:ss', from: 'HTTPS_PROXY' } });
    const text = describeRoute(routeFor(s, url('https://connect.visma.com')));
    expect(text).toBe('via proxy http://proxy.corp:3128 (from HTTPS_PROXY, as al@ice, credentials from HTTPS_PROXY)');
    expect(text).not.toContain('p:ss');
    expect(envProxyPasswords(env)).toEqual(['p:ss']);
  });

  it('lets connect.proxy.url win over the environment, with the config credentials and only the config no-proxy list', () => {
    const s = networkSettings(
      { proxy: { url: 'http://cfg:8080', username: 'svc', password: 'x', noProxy: ['.corp.local'], fromEnv: true } },
      { HTTPS_PROXY: 'http://env:1', NO_PROXY: 'connect.visma.com' },
    );
    expect(s.httpsProxy).toEqual({ url: 'http://cfg:8080', from: 'connect.proxy.url', auth: { username: 'svc', password: 'x', from: 'connect.proxy.username' } });
    expect(s.noProxy).toEqual(['.corp.local']);
    expect(routeFor(s, url('https://connect.visma.com')).kind).toBe('proxy');
  });

  it('applies the config credentials to an environment proxy and adds connect.proxy.noProxy to NO_PROXY', () => {
    const s = networkSettings({ proxy: { username: 'svc', password: 'x', noProxy: ['extra.example'], fromEnv: true } }, { HTTPS_PROXY: 'http://env:1', no_proxy: 'a.example, b.example' });
    expect(s.httpsProxy?.auth).toEqual({ username: 'svc', password: 'x', from: 'connect.proxy.username' });
    expect(s.noProxy).toEqual(['a.example', 'b.example', 'extra.example']);
  });

  it('ignores the environment when connect.proxy.fromEnv is false', () => {
    expect(networkSettings({ proxy: { noProxy: [], fromEnv: false } }, { HTTPS_PROXY: 'http://env:1' }).httpsProxy).toBeNull();
  });

  it('refuses credentials in connect.proxy.url and a proxy URL it cannot use, naming the key or the variable', () => {
    const bad = (proxyUrl: string) => networkSettings({ proxy: { url: proxyUrl, noProxy: [], fromEnv: true } }, {});
    expect(() => bad('http://u:secret@p:1')).toThrow(ConfigError);
    expect(() => bad('http://u:secret@p:1')).toThrow(/connect\.proxy\.url: .*connect\.proxy\.password/);
    expect(() => networkSettings(none, { HTTPS_PROXY: 'socks5://p:1' })).toThrow(/HTTPS_PROXY \(environment\): expected an http:\/\/ or https:\/\/ proxy URL/);
    const e = (() => { try { networkSettings(none, { HTTPS_PROXY: 'http://u:hunter2@[bad' }); } catch (x) { return x as Error; } return null; })();
    expect(e?.message).toMatch(/HTTPS_PROXY/);
    expect(e?.message).not.toContain('hunter2');
  });
});

describe('noProxyMatch', () => {
  const entries = ['*.corp.local', '.example.org', 'exact.test', 'api.test:8443', '10.0.0.0/8', '[::1]', '127.0.0.1'];
  it.each([
    ['https://a.corp.local/x', '*.corp.local'],
    ['https://corp.local/x', '*.corp.local'],
    ['https://deep.a.example.org', '.example.org'],
    ['http://exact.test:9', 'exact.test'],
    ['https://api.test:8443', 'api.test:8443'],
    ['https://10.20.30.40', '10.0.0.0/8'],
    ['http://[::1]:4010', '[::1]'],
    ['http://127.0.0.1:4010', '127.0.0.1'],
  ])('%s goes direct by %s', (target, entry) => {
    expect(noProxyMatch(entries, url(target))).toBe(entry);
  });

  it.each(['https://notexact.test', 'https://api.test', 'https://11.0.0.1', 'https://connect.visma.com', 'https://example.org.evil.com'])(
    '%s goes through the proxy', (target) => {
      expect(noProxyMatch(entries, url(target))).toBeNull();
    },
  );

  it('* sends everything direct', () => {
    const s = networkSettings(none, { HTTPS_PROXY: 'http://p:1', NO_PROXY: '*' });
    expect(describeRoute(routeFor(s, url('https://connect.visma.com')))).toBe('direct (no-proxy entry *)');
  });
});

describe('readCaBundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'udb-ca-'));
  it('names connect.caFile when the file is missing, empty of certificates or broken', () => {
    expect(() => readCaBundle(join(dir, 'missing.pem'))).toThrow(/connect\.caFile: expected a readable PEM file .*ENOENT/);
    writeFileSync(join(dir, 'der.pem'), Buffer.from([0x30, 0x82, 0x01]));
    expect(() => readCaBundle(join(dir, 'der.pem'))).toThrow(/connect\.caFile: expected PEM certificates/);
    writeFileSync(join(dir, 'broken.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(() => readCaBundle(join(dir, 'broken.pem'))).toThrow(/connect\.caFile: certificate 1 of .* cannot be read as X\.509/);
  });
});
