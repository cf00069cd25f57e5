/**
 * `doctor --contract`: a live check of the configured Connect against the contract document. Every
 * read operation ud-bridge uses is called once (ids taken from earlier answers: a tenant we own,
 * an account linked to us, the program map's applications), and each answer is compared with the
 * document for its status, field by field. With `--contract-write` it also runs a create-and-clean-
 * up round on a scratch tenant: add, patch, add an application, suspend, resume, remove it.
 * Fields the document does not name are reported but do not fail: Connect may add fields.
 */
import { randomBytes } from 'node:crypto';
import type { ResolvedConfig } from '../config/load.js';
import { ALL_CONNECT_SCOPES, type ConnectClient } from '../connect/client.js';
import { defaultContract, type OperationId, type Violation } from '../connect/contract.js';
import { describeError } from '../errors.js';
import type { DoctorCheck } from './doctor-check.js';
import { againstConnect, doctorClient, type Endpoints } from './doctor-connect.js';

export interface ContractOptions {
  /** Also create a scratch tenant and clean it up again. */
  readonly write: boolean;
}

type Call = { id: OperationId; path?: Record<string, string>; query?: Record<string, string>; body?: unknown; why?: string };

function describe(differences: readonly Violation[]): string {
  return differences.slice(0, 12).map((v) => `${v.where}: ${v.problem}`).join('; ') + (differences.length > 12 ? `; and ${differences.length - 12} more` : '');
}

async function check(client: ConnectClient, call: Call): Promise<{ check: DoctorCheck; body: unknown }> {
  const name = `contract ${call.id}`;
  const contract = defaultContract();
  try {
    const res = await client.raw(call.id, { ...(call.path ? { path: call.path } : {}), ...(call.query ? { query: call.query } : {}), ...(call.body !== undefined ? { body: call.body } : {}) });
    const strict = contract.checkResponse(call.id, res.status, res.body, { strict: true });
    const extras = strict.filter((v) => v.problem === 'not in the contract');
    const differences = strict.filter((v) => v.problem !== 'not in the contract');
    const notes = extras.length ? `; fields the contract does not name: ${extras.map((v) => v.where).join(', ')}` : '';
    return differences.length === 0
      ? { check: { name, ok: true, detail: `conforms (${res.status})${call.why ? ` ${call.why}` : ''}${notes}` }, body: res.body }
      : { check: { name, ok: false, detail: `differs (${res.status}): ${describe(differences)}${notes}` }, body: res.body };
  } catch (e) {
    const err = describeError(e);
    return { check: { name, ok: false, detail: `${err.code}: ${err.message}` }, body: null };
  }
}

const first = <T>(body: unknown, field: string): T | undefined => {
  const list = Array.isArray(body) ? body : (body as Record<string, unknown> | null)?.[field];
  return Array.isArray(list) ? (list[0] as T | undefined) : undefined;
};

export function contractChecks(config: ResolvedConfig, options: ContractOptions): Promise<DoctorCheck[]> {
  return againstConnect(config, (at) => against(config, at, options));
}

async function against(config: ResolvedConfig, at: Endpoints, options: ContractOptions): Promise<DoctorCheck[]> {
  const client = doctorClient(config, at, ALL_CONNECT_SCOPES, { circuitBreaker: false });
  const checks: DoctorCheck[] = [];
  const run = async (call: Call): Promise<unknown> => {
    const r = await check(client, call);
    checks.push(r.check);
    return r.body;
  };
  const skip = (id: OperationId, why: string) => checks.push({ name: `contract ${id}`, ok: true, detail: `not checked: ${why}` });
  const paged = { per_page: '50', page: '1', include_totals: 'false' };
  try {
    const tenants = await run({ id: 'getAllTenantsManagedByApplication', query: paged, why: 'as a bare array' });
    await run({ id: 'getAllTenantsManagedByApplication', query: { per_page: '50', page: '1' }, why: 'with totals' });
    const tenant = first<{ id?: string; external_id?: string }>(tenants, 'tenants');
    const apps = Object.values(config.programs).map((p) => p.applicationId);
    const app = apps[0]!;
    if (tenant?.id) {
      await run({ id: 'getTenantById', path: { tenant_id: tenant.id } });
      await run({ id: 'getAllApplicationsAddedToTenant', path: { tenant_id: tenant.id } });
      await run({ id: 'getUsersForTenantAndApplication', path: { tenant_id: tenant.id, application_id: app }, query: paged });
    } else {
      for (const id of ['getTenantById', 'getAllApplicationsAddedToTenant', 'getUsersForTenantAndApplication'] as const) skip(id, `no tenant is owned by ${client.clientId}`);
    }
    const searchKey = config.connect.parentTenantExternalId ?? tenant?.external_id;
    if (searchKey) await run({ id: 'searchTenants', query: { external_id: searchKey, limit: '50' } });
    else skip('searchTenants', 'no external id to search for');

    const users = await run({ id: 'getUsers', query: paged });
    const user = first<{ id?: string }>(users, 'users');
    await run({ id: 'getUsersByApplicationIdAndExternalId', query: { application_id: client.clientId, external_id: `ud-bridge-doctor-${randomBytes(3).toString('hex')}` }, why: 'for a key no account carries' });
    if (user?.id) {
      await run({ id: 'getUser', path: { user_id: user.id } });
      await run({ id: 'getUserTenantsWithRolesForApplication', path: { application_id: app, user_id: user.id }, query: paged });
    } else {
      for (const id of ['getUser', 'getUserTenantsWithRolesForApplication'] as const) skip(id, `no account is linked to ${client.clientId}`);
    }
    for (const applicationId of apps) {
      await run({ id: 'getApplication', path: { application_id: applicationId } });
      const roles = await run({ id: 'getAllRolesForApplication', path: { application_id: applicationId } });
      const role = (roles as { roles?: string[] } | null)?.roles?.[0];
      if (tenant?.id && role) await run({ id: 'getUsersForRoleOnTenant', path: { tenant_id: tenant.id, application_id: applicationId, role }, query: paged });
    }
    await run({ id: 'getCountries' });
    await run({ id: 'getLanguages' });
    await run({ id: 'getVismaBusinessUnits' });
    if (options.write) await writeRound(config, client, run, tenant?.id);
  } finally {
    await client.close();
  }
  return checks;
}

/** A scratch tenant under the customer tenant: added, patched, given an application that is suspended, resumed and removed. */
async function writeRound(config: ResolvedConfig, client: ConnectClient, run: (call: Call) => Promise<unknown>, parentHint: string | undefined): Promise<void> {
  const parent = config.connect.parentTenantExternalId === undefined
    ? undefined
    : (await client.listOwnTenants()).find((t) => t.externalId === config.connect.parentTenantExternalId)?.id ?? parentHint;
  const externalId = `ud-bridge-doctor-${randomBytes(4).toString('hex')}`;
  const created = await run({
    id: 'addTenant',
    body: {
      organization_name: 'ud-bridge doctor scratch tenant (safe to delete)',
      organization_number: '923609016',
      country_code: 'NO',
      external_id: externalId,
      business_unit_name: config.connect.businessUnitName ?? '',
      ...(parent ? { parent_id: parent } : {}),
    },
  });
  const id = (created as { id?: string } | null)?.id;
  if (!id) return;
  await run({ id: 'modifyPartsOfTenant', path: { tenant_id: id }, body: [{ op: 'replace', path: '/organization_name', value: 'ud-bridge doctor scratch tenant (cleaned up)' }] });
  const app = Object.values(config.programs)[0]!.applicationId;
  const ref = { tenant_id: id, application_id: app };
  await run({ id: 'addApplicationToTenant', path: ref });
  await run({ id: 'suspendApplication', path: ref });
  await run({ id: 'resumeApplication', path: ref });
  await run({ id: 'deleteApplicationFromTenant', path: ref });
}
