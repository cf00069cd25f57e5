/**
 * `npm run build && node dist/sim/bench.js [requests] [concurrency]`: an in-process simulator
 * under a bounded mixed load (GET tenant, tenant search, roles PUT) through undici, printing
 * requests/second and p50/p99 latency. Figures are printed, never asserted.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { startSimulator } from './index.js';
import { fetchToken, SEED_IDS } from './test-client.js';

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 20_000);
  const concurrency = Number(process.argv[3] ?? 32);
  const sim = await startSimulator({ port: 0 });
  const token = await fetchToken(sim.url, 'ud-bridge', 'local-dev-secret');
  const pool = new Pool(sim.url, { connections: concurrency, pipelining: 1 });
  const auth = { authorization: `Bearer ${token}` };

  // A few users with visma-business on the Bergen tenant, so roles PUTs do real work.
  const post = async (path: string, body?: unknown): Promise<unknown> => {
    const r = await pool.request({ method: 'POST', path: `/v1.0${path}`, headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.body.text();
    return text === '' ? null : (JSON.parse(text) as unknown); // 204 (add application) has no body
  };
  await post(`/tenants/${SEED_IDS.bergenTenant}/applications/visma-business`);
  const users: string[] = [];
  for (let i = 0; i < 50; i++) {
    const u = (await post('/users', { email: `bench${i}@example.no`, first_name: 'Bench', last_name: `User ${i}`, country_code: 'NO', preferred_language: 'nb' })) as { id: string };
    users.push(u.id);
  }
  const roleSets = [['Sales'], ['Accountant', 'module:Payroll'], ['Read Only', 'layout:Standard'], []];

  const latencies = new Float64Array(total);
  let next = 0;
  let failures = 0;
  const one = async (i: number): Promise<void> => {
    const kind = i % 3;
    const started = performance.now();
    const r =
      kind === 0
        ? await pool.request({ method: 'GET', path: `/v1.0/tenants/${SEED_IDS.customerTenant}`, headers: auth })
        : kind === 1
          ? await pool.request({ method: 'GET', path: '/v1.0/search/tenants?organization_name=Fjord%25&application_id=ud-bridge&operator=AND', headers: auth })
          : await pool.request({
              method: 'PUT',
              path: `/v1.0/tenants/${SEED_IDS.bergenTenant}/applications/visma-business/users/${users[i % users.length]}/roles`,
              headers: { ...auth, 'content-type': 'application/json' },
              body: JSON.stringify({ roles: roleSets[i % roleSets.length] }),
            });
    await r.body.dump();
    latencies[i] = performance.now() - started;
    if (r.statusCode >= 300) failures++;
  };
  const worker = async (): Promise<void> => {
    while (next < total) await one(next++);
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  const pct = (p: number): string => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(2);
  process.stdout.write(
    `sim bench: ${total} requests (GET tenant / search / roles PUT), concurrency ${concurrency}, ${failures} non-2xx\n` +
      `  ${(total / seconds).toFixed(0)} requests/s, p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, ${seconds.toFixed(2)} s\n`,
  );
  await pool.close();
  await sim.close();
}

await main();
