import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { hang, json, reset, sequence, startScriptedServer, type ScriptedServer } from '../../test/contract/support/scripted-server.js';
import { ConnectNetworkError, ConnectProxyError, ConnectResponseError } from './errors.js';
import { createHttpTransport, MAX_RESPONSE_BYTES, type HttpTransport } from './http.js';
import { networkSettings } from './network.js';

let server: ScriptedServer | undefined;
let transport: HttpTransport | undefined;
afterEach(async () => {
  await transport?.close();
  await server?.close();
  transport = undefined;
  server = undefined;
});

async function failure(p: Promise<unknown>): Promise<ConnectNetworkError> {
  const e: unknown = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(ConnectNetworkError);
  return e as ConnectNetworkError;
}

describe('http transport', () => {
  it('sends JSON, parses the JSON answer and returns any status without judging it', async () => {
    server = await startScriptedServer((_req, res) => json(res, 409, { error_code: 'X' }));
    transport = createHttpTransport({ timeoutMs: 2000 });
    const res = await transport.send({ operation: 'op', method: 'POST', url: new URL(`${server.url}/a?b=1`), json: { k: 'v' } });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error_code: 'X' });
    const req = server.requests[0];
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.body).toBe('{"k":"v"}');
    expect(req?.url).toBe('/a?b=1');
  });

  it('sends a form body and hands back non-JSON text as it came, and an empty body as null', async () => {
    server = await startScriptedServer(sequence(
      (_req, res) => { res.writeHead(502, { 'content-type': 'text/html' }); res.end('<h1>bad gateway</h1>'); },
      (_req, res) => { res.writeHead(204); res.end(); },
    ));
    transport = createHttpTransport({ timeoutMs: 2000 });
    const a = await transport.send({ operation: 'op', method: 'POST', url: new URL(server.url), form: { grant_type: 'client_credentials', scope: 'a b' } });
    expect(a.body).toBe('<h1>bad gateway</h1>');
    expect(server.requests[0]?.body).toBe('grant_type=client_credentials&scope=a+b');
    expect(server.requests[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const b = await transport.send({ operation: 'op', method: 'DELETE', url: new URL(server.url) });
    expect(b.status).toBe(204);
    expect(b.body).toBeNull();
  });

  it('keeps the connection alive between calls', async () => {
    server = await startScriptedServer((_req, res) => json(res, 200, {}));
    transport = createHttpTransport({ timeoutMs: 2000 });
    for (let i = 0; i < 6; i += 1) await transport.send({ operation: 'op', method: 'GET', url: new URL(server.url) });
    // undici may open a second socket while the first is being released; never one per call.
    expect(server.requests).toHaveLength(6);
    expect(server.connections).toBeLessThanOrEqual(2);
  });

  it('turns a server that never answers into CONNECT_TIMEOUT', async () => {
    server = await startScriptedServer(hang);
    transport = createHttpTransport({ timeoutMs: 100 });
    const e = await failure(transport.send({ operation: 'getTenant', method: 'GET', url: new URL(`${server.url}/tenants/x`) }));
    expect(e.code).toBe('CONNECT_TIMEOUT');
    expect(e.retryable).toBe(true);
    expect(e.operation).toBe('getTenant');
    expect(e.status).toBe(0);
  });

  it('turns a reset socket into CONNECT_NETWORK', async () => {
    server = await startScriptedServer(reset);
    transport = createHttpTransport({ timeoutMs: 2000 });
    const e = await failure(transport.send({ operation: 'op', method: 'GET', url: new URL(server.url) }));
    expect(e.code).toBe('CONNECT_NETWORK');
    expect(e.retryable).toBe(true);
  });

  it('turns a refused connection into CONNECT_NETWORK', async () => {
    // A port that was just free: bind, read it, close.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    transport = createHttpTransport({ timeoutMs: 2000 });
    const e = await failure(transport.send({ operation: 'op', method: 'GET', url: new URL(`http://127.0.0.1:${port}/`) }));
    expect(e.code).toBe('CONNECT_NETWORK');
    expect(e.errorCode).toBe('ECONNREFUSED');
  });
});

describe('http transport bounds', () => {
  async function rejected(p: Promise<unknown>): Promise<unknown> {
    return p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e);
  }

  it(`refuses an answer over ${MAX_RESPONSE_BYTES} bytes by its Content-Length, for the token endpoint as for the API`, async () => {
    const big = 'x'.repeat(MAX_RESPONSE_BYTES + 1);
    server = await startScriptedServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': big.length }); res.end(big); });
    transport = createHttpTransport({ timeoutMs: 5000 });
    for (const operation of ['token', 'getTenant']) {
      const e = await rejected(transport.send({ operation, method: 'GET', url: new URL(`${server.url}/t`) }));
      expect(e).toBeInstanceOf(ConnectResponseError);
      expect(e).toMatchObject({ code: 'CONNECT_BAD_RESPONSE', operation, field: '(body)', retryable: false, details: { maxResponseBytes: MAX_RESPONSE_BYTES } });
      expect((e as Error).message).toContain(`${operation}: the answer of GET ${server.url}/t is larger than ${MAX_RESPONSE_BYTES} bytes`);
    }
  });

  it('stops reading a chunked answer once it passes the bound, and reads one at the bound', async () => {
    server = await startScriptedServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // No Content-Length: chunked, so only counting while reading can catch it.
      const size = req.path === '/at' ? 1024 : 10_000;
      for (let sent = 0; sent < size; sent += 256) res.write('"'.padEnd(Math.min(256, size - sent), ' '));
      res.end();
    });
    transport = createHttpTransport({ timeoutMs: 5000, maxResponseBytes: 1024 });
    const e = await rejected(transport.send({ operation: 'listUsers', method: 'GET', url: new URL(`${server.url}/over`) }));
    expect(e).toMatchObject({ code: 'CONNECT_BAD_RESPONSE', operation: 'listUsers', field: '(body)' });
    const ok = await transport.send({ operation: 'listUsers', method: 'GET', url: new URL(`${server.url}/at`) });
    expect(typeof ok.body === 'string' && ok.body.length).toBe(1024);
  });

  it('a proxy that cannot reach Connect (502 to CONNECT) is a retryable ConnectProxyError naming it', async () => {
    // A bare proxy that answers every CONNECT with 502.
    const proxy = createServer((socket) => {
      socket.once('data', () => socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n'));
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      transport = createHttpTransport({ timeoutMs: 2000, network: networkSettings({ proxy: { url: proxyUrl, noProxy: [], fromEnv: true } }, {}) });
      const e = await rejected(transport.send({ operation: 'getTenant', method: 'GET', url: new URL('https://connect.example.invalid/v1.0/tenants/t') }));
      expect(e).toBeInstanceOf(ConnectProxyError);
      expect(e).toMatchObject({ code: 'CONNECT_PROXY', proxyStatus: 502, proxyUrl, retryable: true, errorCode: 'PROXY_502' });
      expect((e as Error).message).toBe(`getTenant: proxy ${proxyUrl} (from connect.proxy.url) answered 502 to the tunnel for GET https://connect.example.invalid/v1.0/tenants/t: the proxy could not reach it`);
    } finally {
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });
});
