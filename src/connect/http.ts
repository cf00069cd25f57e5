/**
 * The transport under every Connect call: one undici Agent (keep-alive, shared by the API and the
 * token endpoint, which may be different hosts), a timeout per request, JSON or form in, JSON out.
 * It never judges a status: any HTTP answer is returned; only "no answer" is thrown, as a
 * ConnectNetworkError (CONNECT_TIMEOUT or CONNECT_NETWORK), so the retry wrapper can tell them apart.
 */
import { Agent, request } from 'undici';
import { ConnectNetworkError } from './errors.js';

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

export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const agent = new Agent({
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 10_000,
    connections: options.connections ?? null,
  });
  const timeoutMs = options.timeoutMs;

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
    const started = performance.now();
    try {
      // headers/bodyTimeout catch a silent server; the signal caps the whole exchange (a slow drip).
      const res = await request(req.url, {
        dispatcher: agent,
        method: req.method,
        headers,
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.body.text();
      return { status: res.statusCode, headers: res.headers, body: parseBody(text), durationMs: performance.now() - started };
    } catch (e) {
      const kind = isTimeout(e) ? 'timeout' : 'network';
      const cause = errorCodeOf(e);
      throw new ConnectNetworkError(kind, {
        operation: req.operation,
        status: 0,
        errorCode: kind === 'timeout' ? 'TIMEOUT' : cause,
        message: kind === 'timeout'
          ? `no answer from ${req.method} ${req.url.origin}${req.url.pathname} within ${timeoutMs} ms`
          : `${req.method} ${req.url.origin}${req.url.pathname} failed (${cause})`,
        cause: e,
        details: { method: req.method, path: req.url.pathname, timeoutMs },
      });
    }
  }

  return {
    send,
    close: () => agent.close(),
  };
}
