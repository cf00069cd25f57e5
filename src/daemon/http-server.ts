/**
 * The daemon's small HTTP server, bound to localhost by default: `/healthz` for the service
 * manager or a load balancer (open, and says nothing secret), `/metrics` and `/status` for
 * operators (bearer token, because run details name tenants and users). Extra routes — the
 * webhook receiver — plug in through `routes` and get the raw body bytes, since a signature is
 * computed over the bytes exactly as sent; they do their own authentication.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunSummary } from '../domain/run.js';
import type { Logger } from '../log/logger.js';
import type { LockHolder } from './lock.js';
import { countsAsSuccess, type DaemonMetrics } from './metrics.js';

export interface NextRun {
  readonly mode: 'delta' | 'full';
  readonly at: string | null;
  readonly cron: string;
  readonly timezone: string;
}

export interface StatusSnapshot {
  readonly lastRuns: readonly RunSummary[];
  readonly nextRuns: readonly NextRun[];
  readonly heldOpsCount: number;
  readonly lockHolder: LockHolder | null;
  readonly running: { readonly mode: string; readonly startedAt: string } | null;
}

/** An extra route; `body` is the raw request body (capped at maxBodyBytes). */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly token?: string;
  readonly healthMaxAgeMinutes: number;
  readonly metrics: DaemonMetrics;
  readonly status: () => StatusSnapshot | Promise<StatusSnapshot>;
  readonly logger: Logger;
  /** When the daemon started: the grace period for a first run is counted from here. */
  readonly startedAt: Date;
  /** Keyed by "METHOD /path", e.g. "POST /webhooks/connect". */
  readonly routes?: Readonly<Record<string, RouteHandler>>;
  readonly maxBodyBytes?: number;
  readonly now?: () => Date;
  /** A browser signed in to the status page may read /metrics and /status without the bearer header. */
  readonly isSignedIn?: (req: IncomingMessage) => boolean;
}

export interface RunningHttpServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface Health {
  readonly httpStatus: 200 | 503;
  readonly body: {
    readonly status: 'ok' | 'starting' | 'unhealthy';
    readonly reason?: string;
    readonly lastRun: RunSummary | null;
    readonly lastSuccessAgeSeconds: number | null;
  };
}

/** Health from the run history alone, so it is the same after a restart as before it. */
export function evaluateHealth(lastRuns: readonly RunSummary[], now: Date, startedAt: Date, maxAgeMinutes: number): Health {
  const byFinish = [...lastRuns].sort((a, b) => Date.parse(b.finishedAt) - Date.parse(a.finishedAt));
  const lastRun = byFinish[0] ?? null;
  const lastSuccess = byFinish.find((r) => countsAsSuccess(r));
  const maxAgeSeconds = maxAgeMinutes * 60;
  if (lastSuccess !== undefined) {
    const age = Math.max(0, Math.round((now.getTime() - Date.parse(lastSuccess.finishedAt)) / 1000));
    if (age <= maxAgeSeconds) return { httpStatus: 200, body: { status: 'ok', lastRun, lastSuccessAgeSeconds: age } };
    return {
      httpStatus: 503,
      body: { status: 'unhealthy', reason: `the last successful run finished more than ${maxAgeMinutes} minutes ago`, lastRun, lastSuccessAgeSeconds: age },
    };
  }
  const upSeconds = (now.getTime() - startedAt.getTime()) / 1000;
  if (upSeconds <= maxAgeSeconds) {
    return { httpStatus: 200, body: { status: 'starting', reason: 'no successful run yet; within the start-up grace period', lastRun, lastSuccessAgeSeconds: null } };
  }
  return {
    httpStatus: 503,
    body: { status: 'unhealthy', reason: `no successful run in the ${maxAgeMinutes} minutes since the daemon started`, lastRun, lastSuccessAgeSeconds: null },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Compares digests so the time taken says nothing about how much of the token matched. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return match !== null && timingSafeEqual(digest(match[1]!.trim()), digest(token));
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        resolve(null);
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const PROTECTED = new Set(['/metrics', '/status']);
const BUILT_IN = new Set(['/healthz', ...PROTECTED]);

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const now = options.now ?? (() => new Date());
  const routes = options.routes ?? {};
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;

    const extra = routes[`${method} ${pathname}`];
    if (extra !== undefined) {
      const body = await readBody(req, maxBody);
      if (body === null) return sendJson(res, 413, { error: `request body over ${maxBody} bytes` });
      return extra(req, res, body);
    }
    if (!BUILT_IN.has(pathname)) {
      const known = Object.keys(routes).some((k) => k.endsWith(` ${pathname}`));
      return sendJson(res, known ? 405 : 404, { error: known ? `method ${method} not allowed on ${pathname}` : `no route ${pathname}` });
    }
    if (method !== 'GET' && method !== 'HEAD') return sendJson(res, 405, { error: `method ${method} not allowed on ${pathname}` });

    if (pathname === '/healthz') {
      const snapshot = await options.status();
      const health = evaluateHealth(snapshot.lastRuns, now(), options.startedAt, options.healthMaxAgeMinutes);
      return sendJson(res, health.httpStatus, health.body);
    }
    if (options.token === undefined || options.token.length === 0) {
      return sendJson(res, 403, { error: `${pathname} is disabled: set daemon.http.token in the config to enable it` });
    }
    if (!bearerMatches(req.headers.authorization, options.token) && options.isSignedIn?.(req) !== true) {
      res.setHeader('www-authenticate', 'Bearer realm="ud-bridge"');
      return sendJson(res, 401, { error: 'missing or wrong bearer token' });
    }
    if (pathname === '/metrics') {
      const text = await options.metrics.text();
      res.writeHead(200, { 'content-type': options.metrics.contentType, 'cache-control': 'no-store' });
      res.end(text);
      return;
    }
    return sendJson(res, 200, await options.status());
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      options.logger.error('http request failed', { method: req.method, url: req.url, err: e });
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  // Small timeouts: the clients are probes and scrapers on the same machine.
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 2_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  options.logger.info('http server listening', { host: options.host, port });

  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
