/**
 * Contract: reaching Connect through a customer's outbound proxy. A real proxy server (the npm
 * `proxy` package) on loopback carries the token and API calls to the simulator; over TLS, a front
 * with a certificate from a throwaway CA stands for a TLS-inspecting proxy's re-signed Connect.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectClient } from '../../src/connect/client.js';
import { ConnectNetworkError, ConnectProxyError, ConnectTlsError } from '../../src/connect/errors.js';
import { DIRECT, networkSettings, type NetworkSettings } from '../../src/connect/network.js';
import type { SimulatorHandle } from '../../src/sim/index.js';
import { startLoopbackProxy, type LoopbackProxy } from '../support/loopback-proxy.js';
import { createThrowawayCa, type ThrowawayCa } from '../support/throwaway-ca.js';
import { clientFor, CUSTOMER_TENANT, rejection, startSim } from './support/sim-fixture.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

let dir: string;
let ca: ThrowawayCa;
let otherCa: ThrowawayCa;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'udb-proxy-'));
  ca = createThrowawayCa('Corp inspection CA');
  otherCa = createThrowawayCa('Some other CA');
  writeFileSync(join(dir, 'corp-ca.pem'), ca.caPem);
  writeFileSync(join(dir, 'other-ca.pem'), otherCa.caPem);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function sim(): Promise<SimulatorHandle> {
  const s = await startSim();
  cleanup.push(() => s.close());
  return s;
}

async function proxy(options: Parameters<typeof startLoopbackProxy>[0] = {}): Promise<LoopbackProxy> {
  const p = await startLoopbackProxy(options);
  cleanup.push(() => p.close());
  return p;
}

function client(s: SimulatorHandle | { url: string }, network: NetworkSettings, overrides: Parameters<typeof clientFor>[1] = {}): ConnectClient {
  const c = clientFor(s as SimulatorHandle, { network, ...overrides });
  cleanup.push(() => c.close());
  return c;
}

const viaConfig = (p: LoopbackProxy, extra: Partial<Parameters<typeof networkSettings>[0]['proxy']> = {}, caFile?: string): NetworkSettings =>
  networkSettings({ proxy: { url: p.url, noProxy: [], fromEnv: true, ...extra } }, {}, caFile ?? null);

/** An HTTPS front for the simulator: a certificate from `authority`, every request passed on as it came. */
async function tlsFront(target: SimulatorHandle, authority: ThrowawayCa, host = '127.0.0.1'): Promise<{ url: string; requests: number }> {
  let requests = 0;
  const server: HttpsServer = createHttpsServer({ cert: authority.serverCertPem, key: authority.serverKeyPem }, (req, res) => {
    requests += 1;
    const upstream = httpRequest(`${target.url}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(upstream);
  });
  // A socket whose TLS handshake the client gave up on is no HTTP connection: closeAllConnections misses it.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  cleanup.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `https://${host}:${port}`, get requests() { return requests; } };
}

describe('through an outbound proxy', () => {
  it('carries the token request and every API call (connect.proxy.url)', async () => {
    const s = await sim();
    const p = await proxy();
    const api = client(s, viaConfig(p));
    await Promise.all(Array.from({ length: 5 }, () => api.getTenant({ tenantId: CUSTOMER_TENANT })));
    const target = new URL(s.url).host;
    expect(p.tunnels.length).toBeGreaterThan(0);
    expect(p.tunnels.every((t) => t.target === target)).toBe(true);
    // What the simulator served is exactly what passed the proxy.
    expect(p.requests.filter((r) => r.method === 'POST' && r.path === '/connect/token')).toHaveLength(1);
    expect(p.requests.filter((r) => r.method === 'GET' && r.path === `/v1.0/tenants/${CUSTOMER_TENANT}`)).toHaveLength(5);
    expect(p.requests).toHaveLength(s.counters().total);
  });

  it('sends the proxy credentials when the proxy requires them', async () => {
    const s = await sim();
    const p = await proxy({ auth: { username: 'svc-udb', password: 'pr0xy:pw' } });
    const api = client(s, viaConfig(p, { username: 'svc-udb', password: 'pr0xy:pw' }));
    await expect(api.getTenant({ tenantId: CUSTOMER_TENANT })).resolves.toMatchObject({ id: CUSTOMER_TENANT });
    expect(p.tunnels.length).toBeGreaterThan(0);
    expect(p.tunnels.every((t) => t.accepted && t.credentials === 'svc-udb:pr0xy:pw')).toBe(true);
    expect(s.counters().byOperation).toMatchObject({ token: 1, getTenantById: 1 });
  });

  it('wrong proxy credentials: ConnectProxyError 407 naming the proxy and the user, not retried, nothing reaches Connect', async () => {
    const s = await sim();
    const p = await proxy({ auth: { username: 'svc-udb', password: 'right' } });
    const api = client(s, viaConfig(p, { username: 'svc-udb', password: 'wrong-pw' }));
    const e = await rejection(api.getTenant({ tenantId: CUSTOMER_TENANT }));
    expect(e).toBeInstanceOf(ConnectProxyError);
    expect(e).toMatchObject({ code: 'CONNECT_PROXY', proxyStatus: 407, proxyUrl: p.url, retryable: false, operation: 'token' });
    const message = (e as Error).message;
    expect(message).toContain(`proxy ${p.url} (from connect.proxy.url) answered 407`);
    expect(message).toContain('refused the credentials of svc-udb (from connect.proxy.username)');
    expect(JSON.stringify({ message, details: (e as ConnectProxyError).details })).not.toContain('wrong-pw');
    expect(p.tunnels).toHaveLength(1);
    expect(s.counters().total).toBe(0);
  });

  it('no credentials for a proxy that wants them: the error says which keys to set', async () => {
    const s = await sim();
    const p = await proxy({ auth: { username: 'svc-udb', password: 'right' } });
    const e = await rejection(client(s, viaConfig(p)).getTenant({ tenantId: CUSTOMER_TENANT }));
    expect(e).toMatchObject({ code: 'CONNECT_PROXY', proxyStatus: 407 });
    expect((e as Error).message).toMatch(/requires credentials: set connect\.proxy\.username and connect\.proxy\.password/);
  });

  it('an unreachable proxy is a retryable network failure that names it', async () => {
    const s = await sim();
    const p = await proxy();
    const gone = p.url;
    await p.close();
    const e = await rejection(client(s, viaConfig({ url: gone } as LoopbackProxy), { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } }).getTenant({ tenantId: CUSTOMER_TENANT }));
    expect(e).toBeInstanceOf(ConnectNetworkError);
    expect(e).toMatchObject({ code: 'CONNECT_NETWORK', retryable: true, errorCode: 'ECONNREFUSED' });
    expect((e as Error).message).toContain(`via proxy ${gone} failed (ECONNREFUSED)`);
    expect(s.counters().total).toBe(0);
  });

  it('from HTTP_PROXY in the environment, and NO_PROXY sends a matching host direct', async () => {
    const s = await sim();
    const p = await proxy();
    const { port } = new URL(s.url);
    const viaEnv = client(s, networkSettings({ proxy: { noProxy: [], fromEnv: true } }, { HTTP_PROXY: p.url, NO_PROXY: `localhost,127.0.0.1:${Number(port) + 1}` }));
    await viaEnv.getTenant({ tenantId: CUSTOMER_TENANT });
    expect(p.requests.map((r) => r.path)).toEqual(['/connect/token', `/v1.0/tenants/${CUSTOMER_TENANT}`]);

    const before = p.tunnels.length;
    const bypassed = client(s, networkSettings({ proxy: { noProxy: [], fromEnv: true } }, { HTTP_PROXY: p.url, NO_PROXY: `localhost,127.0.0.1:${port}` }));
    await bypassed.getTenant({ tenantId: CUSTOMER_TENANT });
    expect(p.tunnels.length).toBe(before);
    expect(s.counters().byOperation).toMatchObject({ token: 2, getTenantById: 2 });
  });
});

describe('TLS behind a TLS-inspecting proxy (connect.caFile)', () => {
  it('trusts the extra CA for token and API calls through the proxy', async () => {
    const s = await sim();
    const front = await tlsFront(s, ca);
    const p = await proxy();
    const api = client(front, viaConfig(p, {}, join(dir, 'corp-ca.pem')));
    await expect(api.getTenant({ tenantId: CUSTOMER_TENANT })).resolves.toMatchObject({ id: CUSTOMER_TENANT });
    expect(p.tunnels.map((t) => t.target)).toContain(new URL(front.url).host);
    // Inside the tunnel it is TLS: the proxy sees no request line, the front sees both calls.
    expect(p.requests).toHaveLength(0);
    expect(front.requests).toBe(2);
    expect(s.counters().byOperation).toMatchObject({ token: 1, getTenantById: 1 });
  });

  it('without the CA: ConnectTlsError that points to connect.caFile, not retried', async () => {
    const s = await sim();
    const front = await tlsFront(s, ca);
    const p = await proxy();
    const e = await rejection(client(front, viaConfig(p)).getTenant({ tenantId: CUSTOMER_TENANT }));
    expect(e).toBeInstanceOf(ConnectTlsError);
    expect(e).toMatchObject({ code: 'CONNECT_TLS', retryable: false, operation: 'token' });
    expect((e as Error).message).toMatch(/certificate is not trusted \(\w+\); if the proxy inspects TLS, set connect\.caFile/);
    expect(p.tunnels).toHaveLength(1);
    expect(front.requests).toBe(0);
  });

  it('a certificate for another name, through the proxy: ConnectTlsError, not a retried network error', async () => {
    const s = await sim();
    // The certificate names 127.0.0.1; the front answers on 127.0.0.2 (still loopback).
    const front = await tlsFront(s, ca, '127.0.0.2');
    const p = await proxy();
    const e = await rejection(client(front, viaConfig(p, {}, join(dir, 'corp-ca.pem'))).getTenant({ tenantId: CUSTOMER_TENANT }));
    expect(e).toBeInstanceOf(ConnectTlsError);
    expect(e).toMatchObject({ code: 'CONNECT_TLS', errorCode: 'ERR_TLS_CERT_ALTNAME_INVALID', retryable: false });
    expect(p.tunnels).toHaveLength(1);
  });

  it('with a CA file that does not vouch for the certificate: the error names the file', async () => {
    const s = await sim();
    const front = await tlsFront(s, ca);
    const file = join(dir, 'other-ca.pem');
    const e = await rejection(client(front, { ...DIRECT, caFile: file }).getTenant({ tenantId: CUSTOMER_TENANT }));
    expect(e).toBeInstanceOf(ConnectTlsError);
    expect((e as Error).message).toContain(`neither Node's built-in roots nor connect.caFile (${file}) vouch for it`);
  });

  it('direct, the extra CA is trusted too, beside the built-in roots', async () => {
    const s = await sim();
    const front = await tlsFront(s, ca);
    const api = client(front, { ...DIRECT, caFile: join(dir, 'corp-ca.pem') });
    await expect(api.getTenant({ tenantId: CUSTOMER_TENANT })).resolves.toMatchObject({ id: CUSTOMER_TENANT });
  });
});
