/** Run only by contract-guard.test.ts: a simulator that answers outside the contract must fail this file. */
import { expect, it } from 'vitest';
import { startSimulator } from '../../../src/sim/index.js';
import { ApiCaller } from '../../../src/sim/test-client.js';

it('sends a request the contract refuses (per_page 100), and itself passes', async () => {
  const sim = await startSimulator({ port: 0 });
  try {
    const r = await new ApiCaller(sim.url).get('/users?per_page=100');
    expect(r.status).toBe(400);
  } finally {
    await sim.close();
  }
});
