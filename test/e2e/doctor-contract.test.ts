/**
 * `ud-bridge doctor --contract` against the simulator: every read operation conforms on a synced
 * sample; a simulator answering the shapes the first version invented is caught, operation by
 * operation and field by field; `--contract-write` runs its scratch-tenant round and cleans up.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runDoctor, type DoctorReport } from '../../src/app/doctor.js';
import { doctor } from '../../src/cli/doctor.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONNECT_SCOPES } from '../../src/connect/client.js';
import type { SimSeed } from '../../src/sim/index.js';
import { ROOT, startHarness, type Harness, type HarnessOptions } from '../support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const service = (configPath: string | undefined, o?: { contract?: { write: boolean } }) =>
  runDoctor({ ...(configPath === undefined ? {} : { configPath }), ...(o?.contract ? { contract: o.contract } : {}), lockStaleAfterMs: 60_000 });
const contractLines = (r: DoctorReport) => r.checks.filter((c) => c.name.startsWith('contract '));

async function synced(options: HarnessOptions = {}): Promise<Harness> {
  h = await startHarness(options);
  expect((await h.sync()).summary.status).toBe('succeeded');
  return h;
}

describe('ud-bridge doctor --contract', () => {
  it('calls every read operation ud-bridge uses; each conforms; nothing is written', async () => {
    const harness = await synced();
    harness.sim.resetCounters();
    const result = await doctor(service, { config: harness.configPath, contract: true });
    const report = result.json as DoctorReport;
    const lines = contractLines(report);
    expect(lines.filter((c) => !c.ok)).toEqual([]);
    const ops = new Set(lines.map((c) => c.name.replace('contract ', '')));
    expect([...ops].sort()).toEqual([
      'getAllApplicationsAddedToTenant', 'getAllRolesForApplication', 'getAllTenantsManagedByApplication', 'getApplication', 'getCountries',
      'getLanguages', 'getTenantById', 'getUser', 'getUserTenantsWithRolesForApplication', 'getUsers', 'getUsersByApplicationIdAndExternalId',
      'getUsersForRoleOnTenant', 'getUsersForTenantAndApplication', 'getVismaBusinessUnits', 'searchTenants',
    ]);
    expect(lines.every((c) => c.detail.startsWith('conforms') || c.detail.startsWith('not checked'))).toBe(true);
    expect(result.exitCode).toBe(0);
    expect(result.human).toMatch(/PASS {2}contract getTenantById — conforms \(200\)/);
    expect(harness.writes()).toEqual({});
  });

  it('names each operation and field where a Connect answers the old invented shape', async () => {
    const harness = await synced();
    harness.sim.setOldShape(true);
    const result = await doctor(service, { config: harness.configPath, contract: true });
    const report = result.json as DoctorReport;
    const failedLines = contractLines(report).filter((c) => !c.ok);
    expect(result.exitCode).not.toBe(0);
    const byOp = Object.fromEntries(failedLines.map((c) => [c.name.replace('contract ', ''), c.detail]));
    // The old wrapped user list happens to be the contract's paged form, so getUsers still conforms.
    expect(Object.keys(byOp).sort()).toEqual(['getAllTenantsManagedByApplication', 'getCountries', 'getTenantById']);
    expect(byOp.getAllTenantsManagedByApplication).toMatch(/fields the contract does not name: body\/total_tenants, body\/total_pages/);
    expect(byOp.getTenantById).toMatch(/^differs \(200\): body\/application_id: missing \(required\)/);
    expect(byOp.getTenantById).toMatch(/fields the contract does not name: body\/owner_client_id, body\/parent_tenant_id/);
    expect(byOp.getCountries).toMatch(/differs \(200\): body: must be array/);
  });

  it('--contract-write adds a scratch tenant, patches it, and adds, suspends, resumes and removes an application', async () => {
    const harness = await synced();
    harness.sim.resetCounters();
    const report = await service(harness.configPath, { contract: { write: true } });
    const writes = contractLines(report).filter((c) => ['addTenant', 'modifyPartsOfTenant', 'addApplicationToTenant', 'suspendApplication', 'resumeApplication', 'deleteApplicationFromTenant'].includes(c.name.replace('contract ', '')));
    expect(writes.map((c) => [c.name, c.ok])).toEqual([
      ['contract addTenant', true], ['contract modifyPartsOfTenant', true], ['contract addApplicationToTenant', true],
      ['contract suspendApplication', true], ['contract resumeApplication', true], ['contract deleteApplicationFromTenant', true],
    ]);
    const scratch = harness.sim.dump().tenants.filter((t) => t.external_id?.startsWith('ud-bridge-doctor-'));
    expect(scratch).toHaveLength(1);
    expect(scratch[0]).toMatchObject({ organization_name: 'ud-bridge doctor scratch tenant (cleaned up)', applications: [] });
  });
});

describe('doctor checks the config against what Connect lists', () => {
  it('a business unit Connect does not list, a language it does not know and a role outside the catalog are each named', async () => {
    h = await startHarness({
      config: (c) => {
        c.connect.businessUnitName = 'Visma Mars';
        c.userDefaults = { countryCode: 'NO', preferredLanguage: 'tlh' };
        c.programs.VB.roles = [...c.programs.VB.roles, 'Emperor'];
      },
    });
    const report = await service(h.configPath);
    const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    expect(byName['connect business unit']).toMatchObject({ ok: false, detail: expect.stringMatching(/^connect\.businessUnitName: "Visma Mars" is not one of Visma Norway, /) });
    expect(byName['connect user defaults']).toMatchObject({ ok: false, detail: 'userDefaults.preferredLanguage: tlh is not a language Connect accepts' });
    expect(byName['program VB']).toEqual({ name: 'program VB', ok: false, detail: 'programs.VB.roles: not in the catalog of visma-business: Emperor' });
    expect(byName['program VDC']?.ok).toBe(true);
  });

  it('without connect.businessUnitName the check fails and lists the valid names; a tenant.create then fails naming the key', async () => {
    h = await startHarness({ config: (c) => { delete c.connect.businessUnitName; } });
    const report = await service(h.configPath);
    expect(report.checks.find((c) => c.name === 'connect business unit')).toMatchObject({ ok: false, detail: expect.stringMatching(/^connect\.businessUnitName: not set; Add tenant requires one of Visma Norway/) });
    const r = await h.sync();
    const failed = r.results.filter((x) => x.outcome === 'failed' && x.op.kind === 'tenant.create');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]!.error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(failed[0]!.error?.message).toMatch(/connect\.businessUnitName/);
  });
});

describe('scopes: a run asks only for what a sync calls', () => {
  it('a client granted only the run scopes syncs, and doctor passes naming the scopes only its own checks need', async () => {
    const seed = JSON.parse(readFileSync(join(ROOT, 'config', 'sim-seed.json'), 'utf8')) as SimSeed & { clients: { client_id: string; scopes?: string[] }[] };
    seed.clients.find((c) => c.client_id === 'ud-bridge')!.scopes = [...CONNECT_SCOPES];
    h = await startHarness({ sim: { seed } });
    expect(CONNECT_SCOPES).not.toContain('publicapi:vismabusinessunits:read');
    expect((await h.sync()).summary.status).toBe('succeeded');
    const scopes = (await service(h.configPath)).checks.find((c) => c.name === 'connect scopes');
    expect(scopes).toMatchObject({ ok: true, detail: expect.stringMatching(/needed only by doctor's checks: .*publicapi:vismabusinessunits:read/) });
  });
});
