/**
 * The simulator against the contract document: every operation is served, a request outside the
 * contract is answered as Connect would and recorded, and an answer outside it cannot pass
 * silently (the checker names it). These simulators break the contract on purpose, so they keep
 * their violations to themselves (contractLog: null) instead of failing the suite's guard.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultContract } from '../connect/contract.js';
import { startSimulator, type SimulatorHandle } from './index.js';
import { ApiCaller, rawCall, SEED_IDS } from './test-client.js';

let sim: SimulatorHandle;
beforeAll(async () => {
  sim = await startSimulator({ port: 0, contractLog: null });
});
afterAll(() => sim.close());

describe('the simulator held to the contract', () => {
  it('serves every operation of the document, and nothing else under a version prefix', async () => {
    const api = new ApiCaller(sim.url);
    for (const op of defaultContract().operations) {
      const path = op.path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-00000000dead');
      const r = await api.call(op.method, path, op.bodyType ? {} : undefined);
      // Routed: the operation answers (its own 4xx for a dead id), never the "no such route" 404.
      expect(r.status === 404 && r.body?.error_code === 'ERROR_NOT_FOUND', `${op.method} ${op.path}`).toBe(false);
    }
    sim.clearContractViolations();
    const r = await api.get('/tenants/00000000-0000-4000-8000-000000000001/hierarchy');
    expect(r.status).toBe(404);
    expect(sim.contractViolations()).toEqual([expect.objectContaining({ kind: 'request', where: 'path' })]);
  });

  it('a request outside the contract gets the operation\'s own 400 code, and is recorded', async () => {
    const api = new ApiCaller(sim.url);
    sim.clearContractViolations();
    const r = await api.get('/users?per_page=100');
    expect([r.status, r.body.error_code]).toEqual([400, 'ERROR_INVALID_USERS_PER_PAGE']);
    const t = await api.get('/tenants?per_page=51');
    expect([t.status, t.body.error_code]).toEqual([400, 'ERROR_INVALID_TENANTS_PER_PAGE']);
    const body = await api.post('/users', { email: 'a@b.no', first_name: 'A', last_name: 'B' });
    expect([body.status, body.body.error_code]).toEqual([400, 'ERROR_INVALID_COUNTRY_CODE']);
    expect(sim.contractViolations().map((v) => [v.kind, v.operation, v.where])).toEqual([
      ['request', 'getUsers', 'query.per_page'],
      ['request', 'getAllTenantsManagedByApplication', 'query.per_page'],
      ['request', 'addUser', 'body/country_code'],
      ['request', 'addUser', 'body/preferred_language'],
    ]);
  });

  it('an answer in the old invented shape does not pass: the checker names each field', async () => {
    const api = new ApiCaller(sim.url);
    const good = await api.get(`/tenants/${SEED_IDS.customerTenant}`);
    const contract = defaultContract();
    expect(contract.checkResponse('getTenantById', good.status, good.body, { strict: true })).toEqual([]);
    sim.setOldShape(true);
    try {
      const old = await api.get(`/tenants/${SEED_IDS.customerTenant}`);
      expect(old.body).toHaveProperty('owner_client_id');
      expect(contract.checkResponse('getTenantById', old.status, old.body, { strict: true }).map((v) => v.where).sort()).toEqual(
        ['body/application_id', 'body/owner_client_id', 'body/parent_tenant_id'].sort(),
      );
      const countries = await api.get('/countries');
      expect(contract.checkResponse('getCountries', countries.status, countries.body)).not.toEqual([]);
    } finally {
      sim.setOldShape(false);
    }
  });

  it('admin: the recorded violations are readable over HTTP', async () => {
    const r = await rawCall(`${sim.url}/_sim/contract-violations`);
    expect(r.status).toBe(200);
    expect(Array.isArray(r.body.violations)).toBe(true);
  });
});
