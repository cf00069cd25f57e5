import { afterEach, describe, expect, it } from 'vitest';
import type { RunSummary } from '../domain/run.js';
import { createLogger } from '../log/logger.js';
import { evaluateHealth, startHttpServer, type RunningHttpServer, type StatusSnapshot } from './http-server.js';
import { DaemonMetrics } from './metrics.js';

const TOKEN = 'test-token-0123456789abcdef';
const logger = createLogger({ dir: null, console: 'off' });

function run(status: RunSummary['status'], finishedAt: string, over: Partial<RunSummary> = {}): RunSummary {
  return {
    runId: `run-${finishedAt}`,
    mode: 'delta',
    trigger: 'schedule',
    dryRun: false,
    status,
    startedAt: finishedAt,
    finishedAt,
    durationMs: 1000,
    counts: {},
    sourceCounts: {},
    ...over,
  };
}

const servers: RunningHttpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function start(over: { token?: string; lastRuns?: RunSummary[]; now?: Date; startedAt?: Date; routes?: Parameters<typeof startHttpServer>[0]['routes']; sinkFailure?: StatusSnapshot['sinkFailure'] } = {}) {
  const metrics = new DaemonMetrics({ defaultMetrics: false });
  metrics.setHeldOps(2);
  const snapshot: StatusSnapshot = {
    lastRuns: over.lastRuns ?? [],
    nextRuns: [{ mode: 'delta', at: '2026-03-01T10:15:00.000Z', cron: '*/15 * * * *', timezone: 'UTC' }],
    heldOpsCount: 2,
    lockHolder: null,
    running: null,
    ...(over.sinkFailure ? { sinkFailure: over.sinkFailure } : {}),
  };
  const now = over.now ?? new Date('2026-03-01T10:10:00.000Z');
  const server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    ...(over.token === undefined ? {} : { token: over.token }),
    healthMaxAgeMinutes: 60,
    metrics,
    status: () => snapshot,
    logger,
    startedAt: over.startedAt ?? new Date('2026-03-01T10:00:00.000Z'),
    now: () => now,
    ...(over.routes === undefined ? {} : { routes: over.routes }),
  });
  servers.push(server);
  return server;
}

describe('startHttpServer', () => {
  it('answers /healthz 200 with status and times only when the last success is recent: no run, no error text', async () => {
    const failed = run('failed', '2026-03-01T10:08:00.000Z', { error: { code: 'CONNECT_VALIDATION', message: 'addUser: kari@old.example is now kari@new.example, client_secret=x' } });
    const s = await start({ lastRuns: [run('succeeded', '2026-03-01T10:05:00.000Z'), failed] });
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${s.url}/healthz`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ status: 'ok', lastRunAt: '2026-03-01T10:08:00.000Z', lastSuccessAt: '2026-03-01T10:05:00.000Z', lastSuccessAgeSeconds: 300 });
    expect(text).not.toMatch(/kari|CONNECT_VALIDATION|client_secret/);
  });

  it('answers /healthz 503 while a sink (journal, log, state) cannot be written, naming only the sink and the error code', async () => {
    const s = await start({ lastRuns: [run('succeeded', '2026-03-01T10:05:00.000Z')], sinkFailure: { sink: 'journal', errno: 'ENOSPC', at: '2026-03-01T10:09:00.000Z' } });
    const res = await fetch(`${s.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'unhealthy', reason: 'the journal could not be written (ENOSPC)', lastRunAt: '2026-03-01T10:05:00.000Z', lastSuccessAt: '2026-03-01T10:05:00.000Z', lastSuccessAgeSeconds: 300 });
  });

  it('answers /healthz 503 when the last success is older than healthMaxAgeMinutes', async () => {
    const s = await start({ lastRuns: [run('succeeded', '2026-03-01T08:00:00.000Z')] });
    const res = await fetch(`${s.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'unhealthy', lastSuccessAgeSeconds: 2 * 3600 + 600 });
  });

  it('gives a starting-up grace period before the first successful run', async () => {
    const fresh = await start({ lastRuns: [run('failed', '2026-03-01T10:01:00.000Z')] });
    const r1 = await fetch(`${fresh.url}/healthz`);
    expect(r1.status).toBe(200);
    expect(await r1.json()).toMatchObject({ status: 'starting', lastSuccessAgeSeconds: null });
    const old = await start({ startedAt: new Date('2026-03-01T08:00:00.000Z') });
    const r2 = await fetch(`${old.url}/healthz`);
    expect(r2.status).toBe(503);
  });

  it('guards /metrics and /status with the bearer token', async () => {
    const s = await start({ token: TOKEN });
    expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${s.url}/status`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const metrics = await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain('ud_bridge_held_ops 2');
    const status = await fetch(`${s.url}/status`, { headers: { authorization: `bearer ${TOKEN}` } });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ heldOpsCount: 2, nextRuns: [{ mode: 'delta' }], lockHolder: null });
  });

  it('answers 403 on /metrics and /status when no token is configured, saying how to enable them', async () => {
    const s = await start();
    const res = await fetch(`${s.url}/status`, { headers: { authorization: 'Bearer anything' } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toContain('set daemon.http.token');
  });

  it('serves extra routes with the raw body, and 404/405 for the rest', async () => {
    const s = await start({
      routes: {
        'POST /webhooks/connect': (_req, res, body) => {
          res.writeHead(202, { 'content-type': 'text/plain' });
          res.end(`got ${body.length} bytes: ${body.toString('utf8')}`);
        },
      },
    });
    const res = await fetch(`${s.url}/webhooks/connect`, { method: 'POST', body: '{"event":"X"}' });
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('got 13 bytes: {"event":"X"}');
    expect((await fetch(`${s.url}/webhooks/connect`)).status).toBe(405);
    expect((await fetch(`${s.url}/nope`)).status).toBe(404);
    expect((await fetch(`${s.url}/healthz`, { method: 'POST' })).status).toBe(405);
  });
});

describe('evaluateHealth', () => {
  it('ignores dry runs and paused runs as successes', () => {
    const now = new Date('2026-03-01T12:00:00.000Z');
    const h = evaluateHealth(
      [run('succeeded', '2026-03-01T11:59:00.000Z', { dryRun: true }), run('paused', '2026-03-01T11:58:00.000Z')],
      now,
      new Date('2026-03-01T09:00:00.000Z'),
      60,
    );
    expect(h.httpStatus).toBe(503);
    expect(h.body).toMatchObject({ lastRunAt: '2026-03-01T11:59:00.000Z', lastSuccessAt: null });
  });
});
