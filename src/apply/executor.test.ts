/**
 * The executor over the real handlers, the real Connect client and a real simulator: one outcome
 * per op, dependency order, a failure that skips only what waits on it, and abort.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../app/app.js';
import { openApp } from '../main.js';
import type { Op } from '../domain/plan.js';
import { startHarness, type Harness } from '../../test/support/harness.js';
import { applyPlan } from './executor.js';

let h: Harness;
let app: App;
beforeEach(async () => {
  h = await startHarness();
  app = await openApp({ configPath: h.configPath });
});
afterEach(async () => {
  await app.close();
  await h.close();
});

const create = (key: string, organizationNumber: string): Op => ({
  id: `tenant.create:${key}`,
  kind: 'tenant.create',
  target: { type: 'company', companyKey: key },
  before: null,
  after: { name: `Company ${key} AS`, organizationNumber, countryCode: 'NO', externalId: key },
  reason: 'test',
  dependsOn: [],
  destructive: null,
});
const addApp = (key: string): Op => ({
  id: `tenant.app.add:${key}/visma-business`,
  kind: 'tenant.app.add',
  target: { type: 'companyApp', companyKey: key, applicationId: 'visma-business' },
  before: null,
  after: { status: 'active' },
  reason: 'test',
  dependsOn: [`tenant.create:${key}`],
  destructive: null,
});

const ctx = () => ({ connect: app.connect, store: app.store, runId: 'r1', parentTenantId: undefined, writeback: app.writeback, newTenant: { businessUnitName: 'Visma Norway' }, newUser: { countryCode: 'NO', preferredLanguage: 'nb' } });

describe('applyPlan', () => {
  it('reports one outcome per op; a failure skips only its dependents, naming why', async () => {
    const seen: string[] = [];
    const ops = [addApp('K2'), create('K1', '923456783'), addApp('K1'), create('K2', '123456789')];
    const results = await applyPlan(ops, ctx(), { concurrency: 4, onResult: (r) => seen.push(`${r.op.id}=${r.outcome}`) });
    expect(results.map((r) => [r.op.id, r.outcome])).toEqual([
      ['tenant.app.add:K2/visma-business', 'skipped'],
      ['tenant.create:K1', 'created'],
      ['tenant.app.add:K1/visma-business', 'created'],
      ['tenant.create:K2', 'failed'],
    ]);
    expect(results[3]!.error).toMatchObject({ code: 'CONNECT_VALIDATION' });
    expect(results[3]!.error!.message).toMatch(/ERROR_INVALID_ORGANIZATION_NUMBER/);
    expect(results[0]!.skippedBecause).toBe('depends on tenant.create:K2, which failed');
    // Dependency order as it happened: the app was added only after its tenant existed.
    expect(seen.indexOf('tenant.create:K1=created')).toBeLessThan(seen.indexOf('tenant.app.add:K1/visma-business=created'));
    expect(h.sim.dump().tenants.find((t) => t.external_id === 'K1')!.applications.map((a) => a.application_id)).toEqual(['visma-business']);
  });

  it('an "already so" answer is success: re-applying the same ops changes nothing and fails nothing', async () => {
    const ops = [create('K1', '923456783'), addApp('K1')];
    await applyPlan(ops, ctx(), { concurrency: 2 });
    app.store.replaceMirror({ tenants: [], accounts: [] }); // forget, as after a crash
    const again = await applyPlan(ops, ctx(), { concurrency: 2 });
    expect(again.map((r) => r.outcome)).toEqual(['unchanged', 'unchanged']);
    expect(h.sim.dump().tenants.filter((t) => t.external_id === 'K1')).toHaveLength(1);
  });

  it('after abort no op starts', async () => {
    const ac = new AbortController();
    ac.abort();
    const results = await applyPlan([create('K1', '923456783'), addApp('K1')], ctx(), { concurrency: 2, signal: ac.signal });
    expect(results.map((r) => r.outcome)).toEqual(['skipped', 'skipped']);
    expect(h.writes()).toEqual({});
  });
});
