import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type SimHandle } from './index.js';
import { ApiCaller, SEED_IDS } from './test-client.js';

const { kari, per, ola } = SEED_IDS;

describe('users', () => {
  let sim: SimHandle;
  let ud: ApiCaller;
  let other: ApiCaller;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0 });
    ud = new ApiCaller(sim.url);
    other = new ApiCaller(sim.url, 'other-app', 'other-secret');
  });
  beforeEach(() => sim.reset());
  afterAll(() => sim.close());

  const anna = { email: 'Anna.Berg@Example.no', first_name: 'Anna', last_name: 'Berg', country_code: 'NO', preferred_language: 'nb-NO' };

  it('creates (201), links an existing account whatever the letter case (200), then says 409 with user_id', async () => {
    const created = await ud.post('/users', anna);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email: 'Anna.Berg@Example.no', email_verified: false, '2step_enforced': false });
    const linked = await other.post('/users', { ...anna, email: 'anna.berg@EXAMPLE.no' });
    expect([linked.status, linked.body.id]).toEqual([200, created.body.id]);
    expect(linked.body.email).toBe('Anna.Berg@Example.no');
    const again = await ud.post('/users', { ...anna, email: 'ANNA.BERG@example.no' });
    expect([again.status, again.body.error_code, again.body.user_id]).toEqual([409, 'ERROR_USER_LINKED_TO_CLIENT', created.body.id]);
    const apps = await ud.get(`/users/${created.body.id}/applications`);
    expect(apps.body.applications).toEqual([
      { application_id: 'ud-bridge', external_id: null },
      { application_id: 'other-app', external_id: null },
    ]);
  });

  it.each([
    [{ email: 'not-an-email' }, 'ERROR_INVALID_EMAIL', 'email'],
    [{ email: 'a..b@example.no' }, 'ERROR_INVALID_EMAIL', 'email'],
    [{ email: 'x@mailinator.com' }, 'ERROR_DOMAIN_DISPOSABLE', 'email'],
    [{ email: 'x@YOPMAIL.com' }, 'ERROR_DOMAIN_DISPOSABLE', 'email'],
    [{ first_name: ' ' }, 'ERROR_INVALID_FIRST_NAME', 'first_name'],
    [{ last_name: 'y'.repeat(101) }, 'ERROR_INVALID_LAST_NAME', 'last_name'],
    [{ last_name: 'Tab\tName' }, 'ERROR_INVALID_LAST_NAME', 'last_name'],
    [{ country_code: 'QQ' }, 'ERROR_COUNTRY_CODE_NOT_EXIST', 'country_code'],
    [{ preferred_language: 'klingon' }, 'ERROR_INVALID_PREFERRED_LANGUAGE', 'preferred_language'],
    [{ preferred_language: 'xx-NO' }, 'ERROR_INVALID_PREFERRED_LANGUAGE', 'preferred_language'],
    [{ '2step_enforced': 'yes' }, 'ERROR_INVALID_2STEP_ENFORCED_STATE', '2step_enforced'],
  ])('validates %j → %s naming the field', async (change, code, field) => {
    const r = await ud.post('/users', { ...anna, ...change });
    expect([r.status, r.body.error_code]).toEqual([400, code]);
    expect(r.body.error_message).toContain(field);
  });

  it('shows a client only the accounts linked to it', async () => {
    expect((await ud.get(`/users/${per}`)).body.error_code).toBe('ERROR_USER_NOT_FOUND');
    expect((await other.get(`/users/${per}`)).body.email).toBe('per.olsen@nordlys.no');
    expect((await ud.get(`/users?email=per.olsen@nordlys.no`)).body.total_users).toBe(0);
    expect((await other.get(`/users?email=PER.OLSEN@nordlys.no`)).body.users[0].id).toBe(per);
  });

  it('searches by email, first_name, last_name with wildcards, AND/OR and paging', async () => {
    for (const [first, last] of [['Anna', 'Berg'], ['Anne', 'Berg'], ['Bjorn', 'Dahl']]) {
      await ud.post('/users', { email: `${first}.${last}@example.no`.toLowerCase(), first_name: first!, last_name: last! });
    }
    await ud.post('/users', { email: 'ola.hansen@example.com', first_name: 'Ola', last_name: 'Hansen' });
    const emails = async (q: string): Promise<string[]> => (await ud.get(`/users?${q}`)).body.users.map((u: { email: string }) => u.email);
    expect(await emails('first_name=ann%25')).toEqual(['anna.berg@example.no', 'anne.berg@example.no']);
    expect(await emails('email=*@example.com')).toEqual(['ola.hansen@example.com']);
    expect(await emails('first_name=Anna&last_name=Dahl&operator=OR')).toEqual(['anna.berg@example.no', 'bjorn.dahl@example.no']);
    expect(await emails('first_name=Anna&last_name=Dahl&operator=AND')).toEqual([]);
    expect((await ud.get('/users?first_name=Anna&last_name=Berg')).body.error_code).toBe('ERROR_OPERATOR_REQUIRED');
    const page2 = await ud.get('/users?email=*&per_page=3&page=2');
    expect([page2.body.users.length, page2.body.total_users, page2.body.total_pages]).toEqual([1, 4, 2]);
    expect((await ud.get('/users?email=*&per_page=101')).body.error_code).toBe('ERROR_VALIDATION');
  });

  it('sets the external id only for the caller\'s own application and a linked user', async () => {
    const { body: u } = await ud.post('/users', anna);
    expect((await ud.put(`/users/${u.id}/applications/ud-bridge/external_id`, { external_id: 'VUD-42' })).status).toBe(200);
    expect((await ud.get(`/users/${u.id}/applications`)).body.applications).toEqual([{ application_id: 'ud-bridge', external_id: 'VUD-42' }]);
    const foreign = await ud.put(`/users/${u.id}/applications/other-app/external_id`, { external_id: 'x' });
    expect([foreign.status, foreign.body.error_code]).toEqual([403, 'ERROR_NOT_ALLOWED']);
    const notLinked = await ud.put(`/users/${ola}/applications/ud-bridge/external_id`, { external_id: 'x' });
    expect([notLinked.status, notLinked.body.error_code]).toEqual([404, 'ERROR_APPLICATION_NOT_LINKED']);
    expect((await ud.put(`/users/${u.id}/applications/ud-bridge/external_id`, { external_id: '' })).body.error_code).toBe('ERROR_INVALID_EXTERNAL_ID');
  });

  it('unlinks, after which the account is no longer visible to the caller', async () => {
    const { body: u } = await ud.post('/users', anna);
    expect((await ud.delete(`/users/${u.id}/applications/ud-bridge`)).status).toBe(204);
    expect((await ud.get(`/users/${u.id}`)).status).toBe(404);
    expect((await ud.delete(`/users/${u.id}/applications/ud-bridge`)).status).toBe(404);
  });

  it('sets email_change_allowed and 2step_enforced, refusing non-booleans', async () => {
    const { body: u } = await ud.post('/users', anna);
    expect((await ud.put(`/users/${u.id}/email_change_allowed`, { email_change_allowed: false })).body.email_change_allowed).toBe(false);
    expect((await ud.put(`/users/${u.id}/2step_enforced`, { '2step_enforced': true })).body['2step_enforced']).toBe(true);
    const bad = await ud.put(`/users/${u.id}/2step_enforced`, { '2step_enforced': 'true' });
    expect([bad.status, bad.body.error_code]).toEqual([400, 'ERROR_INVALID_2STEP_ENFORCED_STATE']);
    expect((await ud.put(`/users/${kari}/2step_enforced`, { '2step_enforced': true })).status).toBe(404);
  });

  it('lists countries with names', async () => {
    const r = await ud.get('/countries');
    expect(r.body.countries.length).toBe(249);
    expect(r.body.countries).toContainEqual({ code: 'NO', name: 'Norway' });
  });
});
