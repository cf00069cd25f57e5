import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../domain/run.js';
import { countsAsSuccess, DaemonMetrics } from './metrics.js';

function summary(over: Partial<RunSummary> = {}): RunSummary {
  return {
    runId: 'r1',
    mode: 'delta',
    trigger: 'schedule',
    dryRun: false,
    status: 'succeeded',
    startedAt: '2026-03-01T10:00:00.000Z',
    finishedAt: '2026-03-01T10:00:02.000Z',
    durationMs: 2000,
    counts: {},
    sourceCounts: { companies: 6, users: 25 },
    ...over,
  };
}

describe('DaemonMetrics', () => {
  it('exposes runs, ops, Connect latency, 429s, held ops, last success and source rows', async () => {
    const m = new DaemonMetrics({ defaultMetrics: false });
    m.recordRun(summary());
    m.recordRun(summary({ runId: 'r2', status: 'failed', finishedAt: '2026-03-01T11:00:00.000Z' }));
    m.recordOp('user.link', 'created');
    m.recordOp('user.link', 'created');
    m.recordOp('roles.set', 'failed');
    m.observeConnectCall('addUser', 201, 120);
    m.observeConnectCall('addUser', 429, 5);
    m.recordRateLimited('addUser');
    m.setHeldOps(4);
    m.recordSkipped('full', 'run-in-progress');

    const text = await m.text();
    expect(text).toContain('ud_bridge_runs_total{mode="delta",status="succeeded"} 1');
    expect(text).toContain('ud_bridge_runs_total{mode="delta",status="failed"} 1');
    expect(text).toContain('ud_bridge_ops_total{kind="user.link",outcome="created"} 2');
    expect(text).toContain('ud_bridge_ops_total{kind="roles.set",outcome="failed"} 1');
    expect(text).toContain('ud_bridge_connect_call_duration_seconds_count{operation="addUser",status="201"} 1');
    expect(text).toContain('ud_bridge_connect_call_duration_seconds_bucket{le="0.25",operation="addUser",status="201"} 1');
    expect(text).toContain('ud_bridge_connect_rate_limited_total{operation="addUser"} 1');
    expect(text).toContain('ud_bridge_held_ops 4');
    expect(text).toContain(`ud_bridge_last_success_timestamp_seconds ${Date.parse('2026-03-01T10:00:02.000Z') / 1000}`);
    expect(text).toContain('ud_bridge_source_rows{entity="users"} 25');
    expect(text).toContain('ud_bridge_runs_skipped_total{mode="full",reason="run-in-progress"} 1');
    expect(m.lastSuccessTime()?.toISOString()).toBe('2026-03-01T10:00:02.000Z');
    expect(m.contentType).toContain('text/plain');
  });

  it('keeps each instance apart and away from the global registry', async () => {
    const a = new DaemonMetrics();
    const b = new DaemonMetrics();
    a.recordOp('tenant.add', 'created');
    expect(await b.text()).not.toContain('tenant.add');
    expect(await a.text()).toContain('ud_bridge_process_cpu_user_seconds_total');
    expect(await globalRegistry.metrics()).not.toContain('ud_bridge_');
  });

  it('counts completed runs as success, not dry, paused, failed or interrupted ones', () => {
    expect(countsAsSuccess({ status: 'partial', dryRun: false })).toBe(true);
    expect(countsAsSuccess({ status: 'held', dryRun: false })).toBe(true);
    expect(countsAsSuccess({ status: 'succeeded', dryRun: true })).toBe(false);
    for (const status of ['paused', 'failed', 'interrupted'] as const) expect(countsAsSuccess({ status, dryRun: false })).toBe(false);
  });
});
