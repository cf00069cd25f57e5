/**
 * The simulator as its own process (`ud-bridge sim`), so its CPU and memory are never a stage's,
 * driven over its /_sim admin routes: reset, latency, rate limit, request counters.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { RateLimitSettings, SimCounters } from '../sim/types.js';

export interface SimProcess {
  readonly url: string;
  reset(): Promise<void>;
  setLatency(ms: number): Promise<void>;
  setRateLimit(limit: RateLimitSettings | null): Promise<void>;
  counters(): Promise<SimCounters>;
  /** The simulator's whole state (GET /_sim/state). */
  dump(): Promise<unknown>;
  resetCounters(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSimProcess(mainJs: string): Promise<SimProcess> {
  const child: ChildProcess = spawn(process.execPath, [mainJs, 'sim', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the simulator exited (${String(code)}) before it listened`)));
  });
  const admin = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${url}/_sim/${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`simulator admin ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? null : res.json();
  };
  return {
    url,
    reset: async () => void (await admin('POST', 'reset')),
    setLatency: async (ms) => void (await admin('PUT', 'faults', { latencyMs: ms })),
    setRateLimit: async (limit) => void (await admin('PUT', 'rate-limit', limit)),
    counters: async () => (await admin('GET', 'counters')) as SimCounters,
    dump: () => admin('GET', 'state'),
    resetCounters: async () => void (await admin('DELETE', 'counters')),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
