import { describe, expect, it } from 'vitest';
import { loadContract } from './contract.js';

const contract = loadContract();

describe('the contract document', () => {
  it('loads every operation with its method, path, scopes and statuses', () => {
    const op = contract.operation('getTenantById');
    expect(op).toMatchObject({ method: 'GET', path: '/v1.0/tenants/{tenant_id}', scopes: ['publicapi:tenant:read'] });
    expect(op.statuses).toEqual([200, 400, 404]);
    expect(contract.operation('suspendApplication')).toMatchObject({ method: 'PUT', alreadySo: ['ERROR_APPLICATION_ALREADY_SUSPENDED'] });
    expect(contract.operations.length).toBe(27);
  });

  it('matches a concrete path, literal segments before parameters', () => {
    expect(contract.match('GET', '/v1.0/tenants/00000000-0000-4000-8000-000000000001/applications')).toMatchObject({
      op: { id: 'getAllApplicationsAddedToTenant' },
      params: { tenant_id: '00000000-0000-4000-8000-000000000001' },
    });
    expect(contract.match('GET', '/v2.0/tenants/applications/app/users/u1')?.op.id).toBe('getUserTenantsWithRolesForApplication');
    expect(contract.match('DELETE', '/v1.0/users/x')).toBeNull();
  });

  it('refuses a page size over 50, an unknown query parameter and a bad body', () => {
    expect(contract.checkRequest('getUsers', { path: {}, query: { per_page: '100', sort: 'x' }, body: undefined })).toEqual([
      { where: 'query.sort', problem: 'not in the contract' },
      expect.objectContaining({ where: 'query.per_page' }),
    ]);
    expect(contract.checkRequest('addTenant', { path: {}, query: {}, body: { organization_name: 'A' } }).map((v) => v.where)).toEqual(
      expect.arrayContaining(['body/organization_number', 'body/country_code', 'body/business_unit_name']),
    );
  });

  it('checks an answer by status: body schema, strict fields, documented error codes, 204 empty', () => {
    expect(contract.checkResponse('getTenantById', 200, { id: 'x', organization_name: 'a' }, { strict: true }).map((v) => v.where)).toEqual(
      expect.arrayContaining(['body/id', 'body/organization_number']),
    );
    expect(contract.checkResponse('getTenantById', 404, { error_code: 'ERROR_TENANT_NOT_FOUND' })).toEqual([
      expect.objectContaining({ where: 'body/error_code' }),
    ]);
    expect(contract.checkResponse('getTenantById', 404, { error_code: 'ERROR_TENANT_NOT_EXIST' })).toEqual([]);
    expect(contract.checkResponse('addApplicationToTenant', 204, null)).toEqual([]);
    expect(contract.checkResponse('addApplicationToTenant', 201, {})).toEqual([expect.objectContaining({ where: 'status' })]);
    expect(contract.checkResponse('getCountries', 429, { error_code: 'ERROR_RATE_LIMITED' })).toEqual([]);
  });
});

describe('the document itself', () => {
  it('is a valid OpenAPI document whose $refs all resolve', async () => {
    const { default: SwaggerParser } = await import('@apidevtools/swagger-parser');
    const api = await SwaggerParser.validate(structuredClone(contract.document) as never);
    expect(Object.keys((api as { paths: object }).paths).length).toBeGreaterThan(20);
  });

  it('has generated wire types that match it (npm run contract:types)', async () => {
    const { default: openapiTS, astToString } = await import('openapi-typescript');
    const { readFileSync } = await import('node:fs');
    const { contractPath } = await import('./contract.js');
    const generated = astToString(await openapiTS(new URL(`file://${contractPath()}`)));
    const committed = readFileSync(new URL('./contract/wire.ts', import.meta.url), 'utf8');
    expect(committed.replace(/^\/\*\*[\s\S]*?\*\/\s*/, '').trim()).toBe(generated.trim());
  });

  it('cites a source for every operation and lists the error codes its errors may carry', () => {
    for (const op of contract.operations) {
      expect(op.sources.length, op.id).toBeGreaterThan(0);
      for (const s of op.statuses.filter((x) => x >= 400)) expect(op.errorCodes[s]?.length ?? 0, `${op.id} ${s}`).toBeGreaterThan(0);
    }
  });
});
