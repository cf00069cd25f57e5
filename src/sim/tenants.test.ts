import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type SimHandle } from './index.js';
import { ApiCaller, SEED_IDS } from './test-client.js';

const { customerTenant, bergenTenant, otherTenant } = SEED_IDS;

describe('tenants', () => {
  let sim: SimHandle;
  let ud: ApiCaller;
  let other: ApiCaller;
  let third: ApiCaller;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0 });
    ud = new ApiCaller(sim.url);
    other = new ApiCaller(sim.url, 'other-app', 'other-secret');
    third = new ApiCaller(sim.url, 'third-party-app', 'third-secret');
  });
  beforeEach(() => sim.reset());
  afterAll(() => sim.close());

  const acme = { organization_name: 'Acme AS', organization_number: '923609016', country_code: 'NO', external_id: 'acme' };

  it('adds a tenant owned by the caller under an existing parent', async () => {
    const r = await ud.post('/tenants', { ...acme, parent_id: customerTenant, city: 'Oslo' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ ...acme, application_id: 'ud-bridge', parent_id: customerTenant, city: 'Oslo' });
    expect((await ud.get(`/tenants/${r.body.id}`)).body.external_id).toBe('acme');
    const badParent = await ud.post('/tenants', { ...acme, external_id: 'acme-2', parent_id: 'nope' });
    expect([badParent.status, badParent.body.error_code]).toEqual([400, 'ERROR_INVALID_PARENT_TENANT']);
  });

  it('keeps external_id unique per owner only: C100 is taken by other-app, free for ud-bridge', async () => {
    expect((await ud.post('/tenants', { ...acme, external_id: 'C100' })).status).toBe(201);
    const dup = await other.post('/tenants', { ...acme, external_id: 'C100' });
    expect([dup.status, dup.body.error_code]).toEqual([409, 'ERROR_EXTERNAL_ID_ALREADY_ADDED']);
  });

  it('refuses third-party clients', async () => {
    const r = await third.post('/tenants', acme);
    expect([r.status, r.body.error_code]).toEqual([403, 'ERROR_THIRD_PARTY_APPLICATION']);
  });

  it.each([
    [{ organization_name: '   ' }, 'ERROR_INVALID_ORGANIZATION_NAME', 'organization_name'],
    [{ organization_name: 'A\u0007B' }, 'ERROR_INVALID_ORGANIZATION_NAME', 'organization_name'],
    [{ organization_name: 'x'.repeat(256) }, 'ERROR_INVALID_ORGANIZATION_NAME', 'organization_name'],
    [{ organization_name: 42 }, 'ERROR_INVALID_ORGANIZATION_NAME', 'organization_name'],
    [{ country_code: 'XX' }, 'ERROR_INVALID_COUNTRY_CODE', 'country_code'],
    [{ organization_number: '12345678' }, 'ERROR_INVALID_ORGANIZATION_NUMBER', 'organization_number'],
    [{ organization_number: '923609017' }, 'ERROR_INVALID_ORGANIZATION_NUMBER', 'check digit'],
    [{ country_code: 'SE', organization_number: '5560-36#' }, 'ERROR_INVALID_ORGANIZATION_NUMBER', 'organization_number'],
    [{ external_id: '' }, 'ERROR_INVALID_EXTERNAL_ID', 'external_id'],
    [{ colour: 'red' }, 'ERROR_VALIDATION', 'colour'],
  ])('validates %j → %s', async (change, code, named) => {
    const r = await ud.post('/tenants', { ...acme, ...change });
    expect([r.status, r.body.error_code]).toEqual([400, code]);
    expect(r.body.error_message).toContain(named);
  });

  it('accepts other countries\' organisation numbers of letters, digits and hyphens', async () => {
    expect((await ud.post('/tenants', { ...acme, country_code: 'SE', organization_number: '556036-0793' })).status).toBe(201);
  });

  it('lets only the owner PATCH, validating like create and keeping external_id unique', async () => {
    const r = await ud.patch(`/tenants/${bergenTenant}`, { organization_name: 'Fjordtech Bergen AS (renamed)', city: 'Bergen' });
    expect(r.status).toBe(200);
    expect(r.body.organization_name).toBe('Fjordtech Bergen AS (renamed)');
    const notOwner = await other.patch(`/tenants/${bergenTenant}`, { city: 'Oslo' });
    expect([notOwner.status, notOwner.body.error_code]).toEqual([403, 'ERROR_NOT_TENANT_OWNER']);
    const dup = await ud.patch(`/tenants/${bergenTenant}`, { external_id: 'customer' });
    expect([dup.status, dup.body.error_code]).toEqual([409, 'ERROR_EXTERNAL_ID_ALREADY_ADDED']);
    const bad = await ud.patch(`/tenants/${bergenTenant}`, { organization_number: '987654321' });
    expect(bad.body.error_code).toBe('ERROR_INVALID_ORGANIZATION_NUMBER');
    expect((await ud.patch(`/tenants/${bergenTenant}`, { external_id: 'bergen' })).status).toBe(200);
    expect((await ud.get('/search/tenants?external_id=bergen')).body.total_tenants).toBe(1);
    expect((await ud.get('/search/tenants?external_id=legacy-bergen')).body.total_tenants).toBe(0);
    expect((await ud.get('/tenants/nope')).body.error_code).toBe('ERROR_TENANT_NOT_FOUND');
  });

  describe('search', () => {
    const names = async (q: string): Promise<string[]> => {
      const r = await ud.get(`/search/tenants?${q}`);
      expect(r.status).toBe(200);
      return r.body.tenants.map((t: { organization_name: string }) => t.organization_name);
    };

    it('treats % and * as wildcards anywhere, ignoring case', async () => {
      expect(await names('organization_name=fjordtech%25')).toEqual(['Fjordtech Group', 'Fjordtech Bergen AS']);
      expect(await names('organization_name=*bergen*')).toEqual(['Fjordtech Bergen AS']);
      expect(await names('organization_name=%25Other%25AS')).toEqual(['Nordic Other Customer AS']);
      expect(await names('organization_name=fjordtech')).toEqual([]);
      expect(await names('external_id=CUSTOMER')).toEqual(['Fjordtech Group']);
    });

    it('combines attributes with AND or OR and wants an operator for two or more', async () => {
      expect(await names('organization_name=Fjord*&organization_number=987654325&operator=AND')).toEqual(['Fjordtech Bergen AS']);
      expect(await names('external_id=C100&organization_number=987654325&operator=or')).toEqual(['Fjordtech Bergen AS', 'Nordic Other Customer AS']);
      const r = await ud.get('/search/tenants?external_id=C100&country_code=NO');
      expect([r.status, r.body.error_code]).toEqual([400, 'ERROR_OPERATOR_REQUIRED']);
      const unknown = await ud.get('/search/tenants?colour=red');
      expect([unknown.status, unknown.body.error_code]).toEqual([400, 'ERROR_INVALID_SEARCH_ATTRIBUTE']);
    });

    it('matches domain_name as the exact full verified domain, never a wildcard', async () => {
      await sim.reset({
        ...sim.dump(),
        tenants: sim.dump().tenants.map((t) =>
          t.id === otherTenant ? { ...t, domains: [{ name: 'nordic.no', verified: false }] } : t,
        ),
      });
      expect(await names('domain_name=FJORDTECH.no')).toEqual(['Fjordtech Group']);
      expect(await names('domain_name=tech.no')).toEqual([]);
      expect(await names('domain_name=nordic.no')).toEqual([]);
      const wild = await ud.get('/search/tenants?domain_name=fjord%25');
      expect(wild.body.error_code).toBe('ERROR_INVALID_SEARCH_ATTRIBUTE');
    });

    it('pages with limit and page', async () => {
      for (let i = 0; i < 5; i++) {
        expect((await ud.post('/tenants', { ...acme, organization_name: `Page ${i}`, external_id: `p${i}` })).status).toBe(201);
      }
      const p1 = await ud.get('/search/tenants?organization_name=Page*&limit=2&page=1');
      const p3 = await ud.get('/search/tenants?organization_name=Page*&limit=2&page=3');
      expect(p1.body.tenants.map((t: { external_id: string }) => t.external_id)).toEqual(['p0', 'p1']);
      expect(p3.body.tenants.map((t: { external_id: string }) => t.external_id)).toEqual(['p4']);
      expect([p1.body.total_tenants, p1.body.total_pages]).toEqual([5, 3]);
      expect((await ud.get('/search/tenants?organization_name=x&limit=101')).body.error_code).toBe('ERROR_VALIDATION');
    });
  });

  describe('applications on tenants', () => {
    const path = (t: string, a: string): string => `/tenants/${t}/applications/${a}`;

    it('lets the owner add an application that granted it provisioning, once', async () => {
      const r = await ud.post(path(bergenTenant, 'visma-business'));
      expect(r.status).toBe(201);
      expect(r.body).toEqual({ tenant_id: bergenTenant, application_id: 'visma-business', status: 'active' });
      const again = await ud.post(path(bergenTenant, 'visma-business'));
      expect([again.status, again.body.error_code]).toEqual([409, 'ERROR_APPLICATION_ALREADY_ADDED']);
    });

    it('refuses non-owners, applications without a provisioning grant and unknown applications', async () => {
      expect((await other.post(path(bergenTenant, 'visma-business'))).body.error_code).toBe('ERROR_NOT_TENANT_OWNER');
      const noGrant = await ud.post(path(bergenTenant, 'other-app'));
      expect([noGrant.status, noGrant.body.error_code]).toEqual([403, 'ERROR_TENANT_PROVISIONING_NOT_ALLOWED']);
      expect((await ud.post(path(bergenTenant, 'nope'))).body.error_code).toBe('ERROR_APPLICATION_NOT_FOUND');
    });

    it('allows self-activation by the application itself only when the tenant allows it', async () => {
      expect((await other.post(path(bergenTenant, 'other-app'))).body.error_code).toBe('ERROR_NOT_TENANT_OWNER');
      const dump = sim.dump();
      sim.reset({ ...dump, tenants: dump.tenants.map((t) => (t.id === bergenTenant ? { ...t, allow_self_activation: true } : t)) });
      expect((await other.post(path(bergenTenant, 'other-app'))).status).toBe(201);
    });

    it('suspends and resumes (owner only) and lists with inheritance from ancestors', async () => {
      await ud.post(path(customerTenant, 'visma-business'));
      await ud.post(path(customerTenant, 'visma-reporting'));
      await ud.post(path(bergenTenant, 'visma-document-center'));
      expect((await ud.post(`${path(customerTenant, 'visma-reporting')}/suspend`)).body.status).toBe('suspended');
      const own = await ud.get(`/tenants/${bergenTenant}/applications`);
      expect(own.body.applications).toEqual([{ application_id: 'visma-document-center', status: 'active', is_inherited: false }]);
      const inherited = await ud.get(`/tenants/${bergenTenant}/applications?is_inherited=true`);
      expect(inherited.body.applications).toEqual([
        { application_id: 'visma-document-center', status: 'active', is_inherited: false },
        { application_id: 'visma-business', status: 'active', is_inherited: true, inherited_from: customerTenant },
      ]);
      const hierarchy = await ud.get(`/tenants/${bergenTenant}/hierarchy/applications`);
      expect(hierarchy.body.applications).toEqual([
        { tenant_id: customerTenant, application_id: 'visma-business', status: 'active' },
        { tenant_id: customerTenant, application_id: 'visma-reporting', status: 'suspended' },
        { tenant_id: bergenTenant, application_id: 'visma-document-center', status: 'active' },
      ]);
      expect((await other.post(`${path(customerTenant, 'visma-reporting')}/resume`)).body.error_code).toBe('ERROR_NOT_TENANT_OWNER');
      expect((await ud.post(`${path(customerTenant, 'visma-reporting')}/resume`)).body.status).toBe('active');
      const absent = await ud.post(`${path(bergenTenant, 'visma-reporting')}/suspend`);
      expect([absent.status, absent.body.error_code]).toEqual([409, 'ERROR_APPLICATION_NOT_ON_TENANT']);
      expect((await ud.delete(path(bergenTenant, 'visma-document-center'))).status).toBe(204);
      expect((await ud.get(`/tenants/${bergenTenant}/applications`)).body.applications).toEqual([]);
    });

    it("reads other owners' tenants (tenant:read) but never writes them", async () => {
      expect((await ud.get(`/tenants/${otherTenant}`)).body.application_id).toBe('other-app');
      expect((await ud.delete(path(otherTenant, 'other-app'))).body.error_code).toBe('ERROR_NOT_TENANT_OWNER');
    });
  });
});
