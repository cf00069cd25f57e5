/**
 * The transport under every Connect call: keep-alive undici dispatchers shared by the API and the
 * token endpoint (which may be different hosts), a timeout per request, JSON or form in, JSON out.
 * Each request goes the route network.ts decides: direct, or through the outbound proxy, with the
 * extra CA bundle trusted beside Node's roots either way.
 * It never judges Connect's status: any HTTP answer is returned. Thrown are only "no usable
 * answer": ConnectNetworkError (CONNECT_TIMEOUT / CONNECT_NETWORK, so the retry wrapper can tell
 * them apart), ConnectProxyError (the proxy refused the tunnel), ConnectTlsError (certificate not
 * trusted) and ConnectResponseError for a body larger than the transport reads.
 */
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import { ConnectError, ConnectNetworkError, ConnectProxyError, ConnectResponseError, ConnectTlsError } from './errors.js';
import { DIRECT, describeRoute, readCaBundle, routeFor, trustedCas, type NetworkSettings, type ProxyRoute, type Route } from './network.js';

/**
 * The largest answer read, for API and token answers alike. The biggest legitimate one is a page
 * of 50 objects (a few hundred kB at most); a hostile or broken server could otherwise fill memory.
 */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  /** Named in errors; the port's method name, or 'token'. */
  readonly operation: string;
  readonly method: HttpMethod;
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as application/json. */
  readonly json?: unknown;
  /** Sent as application/x-www-form-urlencoded (the token endpoint). */
  readonly form?: Readonly<Record<string, string>>;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Parsed JSON; the raw text when it is not JSON; null when empty. */
  readonly body: unknown;
  readonly durationMs: number;
}

export interface HttpTransport {
  send(req: HttpRequest): Promise<HttpResponse>;
  close(): Promise<void>;
}

export interface HttpTransportOptions {
  readonly timeoutMs: number;
  /** Sockets kept per origin; at least the client's concurrency so the queue, not the pool, limits. */
  readonly connections?: number;
  readonly keepAliveTimeoutMs?: number;
  /** Proxy and extra CA; default direct with Node's roots. */
  readonly network?: NetworkSettings;
  /** Default MAX_RESPONSE_BYTES. */
  readonly maxResponseBytes?: number;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function isTimeout(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const { code, name } = e as { code?: unknown; name?: unknown };
  return name === 'TimeoutError' || (typeof code === 'string' && TIMEOUT_CODES.has(code));
}

function errorCodeOf(e: unknown): string {
  if (typeof e === 'object' && e !== null) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const causeCode = (e as { cause?: { code?: unknown } }).cause?.code;
    if (typeof causeCode === 'string') return causeCode;
    const name = (e as { name?: unknown }).name;
    if (typeof name === 'string') return name;
  }
  return 'UNKNOWN';
}

function parseBody(text: string): unknown {
  if (text.length === 0) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Node's certificate verification failures: the server answered, its certificate is not trusted. */
const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_UNTRUSTED', 'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID', 'CERT_SIGNATURE_FAILURE', 'CERT_REJECTED', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * undici reports a refused CONNECT only in its message (`Proxy response (407) !== 200 when HTTP
 * Tunneling`, code UND_ERR_ABORTED); this is the one place that text is read. http.test.ts and the
 * proxy contract tests fail if undici changes it.
 */
function proxyTunnelStatus(e: unknown): number | null {
  if (!(e instanceof Error)) return null;
  const m = /^Proxy response \((\d{3})\) !== 200 when HTTP Tunneling$/.exec(e.message);
  return m ? Number(m[1]) : null;
}

function proxyAdvice(status: number, proxy: ProxyRoute): string {
  if (status === 407) {
    return proxy.auth === null
      ? 'the proxy requires credentials: set connect.proxy.username and connect.proxy.password'
      : `the proxy refused the credentials of ${proxy.auth.username} (from ${proxy.auth.from})`;
  }
  if (status === 403) return 'the proxy does not allow this destination: ask for it to be allowed';
  return 'the proxy could not reach it';
}

/** The verification code, also when undici wraps it (SecureProxyConnectionError, for an https:// proxy's own certificate). */
function tlsTrustCode(e: unknown): string | null {
  for (let x: unknown = e, depth = 0; typeof x === 'object' && x !== null && depth < 4; x = (x as { cause?: unknown }).cause, depth += 1) {
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'string' && TLS_TRUST_CODES.has(code)) return code;
  }
  return null;
}

interface Routed {
  readonly dispatcher: Dispatcher;
  readonly route: Route;
}

export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const network = options.network ?? DIRECT;
  const bundle = network.caFile === null ? null : readCaBundle(network.caFile);
  const ca = trustedCas(bundle);
  const agentOptions = {
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 10_000,
    connections: options.connections ?? null,
  };
  const direct = new Agent({ ...agentOptions, ...(ca === undefined ? {} : { connect: { ca } }) });
  // One agent per proxy (HTTP_PROXY and HTTPS_PROXY are often the same one).
  const proxies = new Map<string, ProxyAgent>();
  const timeoutMs = options.timeoutMs;
  const maxBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;

  function dispatcherFor(url: URL): Routed {
    const route = routeFor(network, url);
    if (route.kind === 'direct') return { dispatcher: direct, route };
    const p = route.proxy;
    const key = `${p.url} ${p.auth?.username ?? ''}`;
    let agent = proxies.get(key);
    if (agent === undefined) {
      agent = new ProxyAgent({
        ...agentOptions,
        uri: p.url,
        ...(p.auth === null ? {} : { token: `Basic ${Buffer.from(`${p.auth.username}:${p.auth.password}`).toString('base64')}` }),
        ...(ca === undefined ? {} : { requestTls: { ca }, proxyTls: { ca } }),
      });
      proxies.set(key, agent);
    }
    return { dispatcher: agent, route };
  }

  async function readBody(req: HttpRequest, res: Dispatcher.ResponseData): Promise<string> {
    const tooLarge = (): ConnectResponseError => {
      res.body.destroy();
      return new ConnectResponseError({
        operation: req.operation,
        status: res.statusCode,
        field: '(body)',
        message: `the answer of ${req.method} ${req.url.origin}${req.url.pathname} is larger than ${maxBytes} bytes, the most ud-bridge reads; not read`,
        details: { maxResponseBytes: maxBytes },
      });
    };
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      const b = chunk as Buffer;
      size += b.length;
      if (size > maxBytes) throw tooLarge();
      chunks.push(b);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  function failure(req: HttpRequest, route: Route, e: unknown): ConnectError {
    const target = `${req.method} ${req.url.origin}${req.url.pathname}`;
    const via = route.kind === 'proxy' ? ` via proxy ${route.proxy.url}` : '';
    const base = { operation: req.operation, status: 0, cause: e, details: { method: req.method, path: req.url.pathname, route: describeRoute(route) } };
    const tunnel = route.kind === 'proxy' ? proxyTunnelStatus(e) : null;
    if (tunnel !== null && route.kind === 'proxy') {
      return new ConnectProxyError({
        ...base,
        errorCode: `PROXY_${tunnel}`,
        proxyUrl: route.proxy.url,
        proxyStatus: tunnel,
        message: `proxy ${route.proxy.url} (from ${route.proxy.from}) answered ${tunnel} to the tunnel for ${target}: ${proxyAdvice(tunnel, route.proxy)}`,
      });
    }
    const cause = tlsTrustCode(e) ?? errorCodeOf(e);
    if (TLS_TRUST_CODES.has(cause)) {
      const hint = bundle !== null
        ? `neither Node's built-in roots nor connect.caFile (${bundle.file}) vouch for it`
        : route.kind === 'proxy'
          ? 'if the proxy inspects TLS, set connect.caFile to its CA bundle'
          : 'if a TLS-inspecting proxy or a private CA sits in between, set connect.caFile to its CA bundle';
      return new ConnectTlsError({ ...base, errorCode: cause, message: `${target}${via}: the server's certificate is not trusted (${cause}); ${hint}` });
    }
    const kind = isTimeout(e) ? 'timeout' : 'network';
    return new ConnectNetworkError(kind, {
      ...base,
      errorCode: kind === 'timeout' ? 'TIMEOUT' : cause,
      message: kind === 'timeout' ? `no answer from ${target}${via} within ${timeoutMs} ms` : `${target}${via} failed (${cause})`,
      details: { ...base.details, timeoutMs },
    });
  }

  async function send(req: HttpRequest): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    let body: string | undefined;
    if (req.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(req.form as Record<string, string>).toString();
    } else if (req.json !== undefined) {
      headers['content-type'] ??= 'application/json'; // a caller may name another JSON type (JSON Patch)
      body = JSON.stringify(req.json);
    }
    const { dispatcher, route } = dispatcherFor(req.url);
    const started = performance.now();
    try {
      // headers/bodyTimeout catch a silent server; the signal caps the whole exchange (a slow drip).
      const res = await request(req.url, {
        dispatcher,
        method: req.method,
        headers,
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await readBody(req, res);
      return { status: res.statusCode, headers: res.headers, body: parseBody(text), durationMs: performance.now() - started };
    } catch (e) {
      if (e instanceof ConnectError) throw e;
      throw failure(req, route, e);
    }
  }

  return {
    send,
    async close() {
      await Promise.all([direct.close(), ...[...proxies.values()].map((a) => a.close())]);
    },
  };
}
