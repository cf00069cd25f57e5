/**
 * `npm run build && node dist/connect/adaptive-bench.js [calls] [perSecond] [latencyMs]`: the Connect
 * client against an in-process simulator with a token-bucket rate limit and a server latency, once with adaptive concurrency and
 * once without, then (adaptive only) the same load with the limit lifted. Prints the limit's
 * trajectory, the 429s met, the requests sent and the wall time. Figures are printed, never asserted.
 */
import { performance } from 'node:perf_hooks';
import { startSimulator } from '../sim/index.js';
import { CONNECT_SCOPES, createConnectClient, type ConnectClient } from './client.js';

const CUSTOMER_TENANT = '10000000-0000-4000-8000-000000000001';

async function phase(client: ConnectClient, calls: number): Promise<number> {
  const started = performance.now();
  await Promise.all(Array.from({ length: calls }, () => client.getTenant({ tenantId: CUSTOMER_TENANT })));
  return performance.now() - started;
}

async function run(adaptive: boolean, calls: number, perSecond: number, latencyMs: number): Promise<void> {
  const sim = await startSimulator({ port: 0, faults: { latencyMs } });
  const t0 = performance.now();
  const trajectory: string[] = [];
  let limited = 0;
  const client = createConnectClient({
    apiBaseUrl: sim.url,
    tokenUrl: `${sim.url}/connect/token`,
    clientId: 'ud-bridge',
    clientSecret: 'local-dev-secret',
    scopes: CONNECT_SCOPES,
    concurrency: 16,
    maxRateLimitRetries: 100,
    adaptive: adaptive ? {} : false,
    observer: {
      onRateLimited: () => { limited += 1; },
      onConcurrencyChange: (e) => trajectory.push(`${((performance.now() - t0) / 1000).toFixed(1)}s:${e.to}${e.reason === 'recovered' ? '' : ` (${e.reason})`}`),
    },
  });
  try {
    await client.getTenant({ tenantId: CUSTOMER_TENANT });
    sim.setRateLimit({ perSecond, burst: Math.max(1, Math.floor(perSecond / 4)) });
    sim.resetCounters();
    const ms = await phase(client, calls);
    const label = adaptive ? 'adaptive' : 'fixed   ';
    process.stdout.write(`${label} limited ${perSecond}/s, latency ${latencyMs} ms: ${calls} calls in ${(ms / 1000).toFixed(1)} s, ${limited} x 429, ${sim.counters().byOperation.getTenant ?? 0} requests, final limit ${client.concurrency}\n`);
    if (adaptive) {
      sim.setRateLimit(null);
      const healed = await phase(client, calls * 2);
      process.stdout.write(`adaptive unlimited: ${calls * 2} calls in ${(healed / 1000).toFixed(1)} s, final limit ${client.concurrency}\n`);
      process.stdout.write(`trajectory: 16 -> ${trajectory.join(' -> ')}\n`);
    }
  } finally {
    await client.close();
    await sim.close();
  }
}

async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 300);
  const perSecond = Number(process.argv[3] ?? 50);
  // Localhost answers in ~1 ms; a real Connect call takes tens of ms, which is what makes the
  // in-flight limit matter for the request rate.
  const latencyMs = Number(process.argv[4] ?? 50);
  await run(false, calls, perSecond, latencyMs);
  await run(true, calls, perSecond, latencyMs);
}

await main();
