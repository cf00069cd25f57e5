/**
 * The port's methods over contract operations: which operation each one calls, how it pages
 * (the operation's x-udb-paging), and how its answer becomes the port's types. Answers arrive
 * here already checked against the contract for their status (client.ts), so 204 is simply an
 * empty result and the fields the contract requires are present.
 */
import type { Contract, OperationId } from './contract.js';
import type { components, operations } from './contract/wire.js';
import { ConnectConflictError, ConnectError, ConnectResponseError } from './errors.js';
import type { ConnectApi, ConnectUser, WriteResult } from './port.js';
import {
  fromNewTenant, fromNewUser, fromTenantPatch, tenantSearchQuery, toRoleHolder, toSearchResult, toTenant, toTenantApplication,
  toTenantRoles, toUser,
} from './wire-map.js';

export interface InvokeRequest {
  readonly path?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}
export interface InvokeResult {
  readonly status: number;
  /** null for 204 and bodiless answers. */
  readonly body: unknown;
}
export type Invoke = (id: OperationId, request?: InvokeRequest) => Promise<InvokeResult>;

/** The most a list operation serves per page (per_page and limit are 1–50). */
export const PAGE_SIZE = 50;
/**
 * A list longer than this many pages is taken as a server that never stops (a page that ignores
 * `page`, a total that grows), not as data: 2,000 pages are 100,000 items.
 */
export const MAX_PAGES = 2_000;

type S = components['schemas'];
type Json<K extends OperationId, Status extends number> = operations[K]['responses'] extends Record<Status, { content: { 'application/json': infer B } }> ? B : never;

/** A paged answer is a bare array (include_totals=false) or, from a server that ignores it, the paged object. */
function pageItems<T>(body: unknown, field: string): T[] {
  if (body === null) return [];
  if (Array.isArray(body)) return body as T[];
  const items = (body as Record<string, unknown>)[field];
  return Array.isArray(items) ? (items as T[]) : [];
}

export function connectOperations(invoke: Invoke, contract: Contract): Omit<ConnectApi, 'clientId'> {
  /**
   * Every page of a `pages` operation: per_page 50, include_totals=false, until a 204 or a short
   * page. A page that repeats an item of an earlier one, or a list past MAX_PAGES, stops the read
   * with a ConnectResponseError rather than asking forever.
   */
  async function allPages<T>(id: OperationId, path: Record<string, string>, field: string, key: (item: T) => string, query: Record<string, string> = {}): Promise<T[]> {
    if (contract.operation(id).paging !== 'pages') throw new Error(`${id} is not a paged operation in the contract`);
    const out: T[] = [];
    const seen = new Set<string>();
    for (let page = 1; ; page += 1) {
      if (page > MAX_PAGES) {
        throw new ConnectResponseError({ operation: id, status: 200, field: 'page', message: `still more pages after ${MAX_PAGES} pages of ${PAGE_SIZE}; stopped (a server that does not page?)` });
      }
      const res = await invoke(id, { path, query: { ...query, per_page: String(PAGE_SIZE), page: String(page), include_totals: 'false' } });
      const items = pageItems<T>(res.body, field);
      for (const item of items) {
        const k = key(item);
        if (seen.has(k)) {
          throw new ConnectResponseError({ operation: id, status: res.status, field: `page ${page}`, message: `page ${page} repeats ${k} from an earlier page; stopped (the server does not follow page=)` });
        }
        seen.add(k);
        out.push(item);
      }
      if (res.status === 204 || items.length < PAGE_SIZE) return out;
    }
  }

  /** The write answered "already so" (an x-udb-already-so code) → unchanged; any other failure stands. */
  async function write(id: OperationId, request: InvokeRequest): Promise<WriteResult> {
    try {
      await invoke(id, request);
      return 'changed';
    } catch (e) {
      if (e instanceof ConnectError && contract.operation(id).alreadySo.includes(e.errorCode)) return 'unchanged';
      throw e;
    }
  }

  const tenantApp = (r: { tenantId: string; applicationId: string }) => ({ tenant_id: r.tenantId, application_id: r.applicationId });

  async function listLinkedUsers(query: { email?: string } = {}): Promise<ConnectUser[]> {
    const items = await allPages<S['UserListItem']>('getUsers', {}, 'users', (u) => u.id, query.email === undefined ? {} : { email: query.email });
    return items.map(toUser);
  }

  return {
    async listOwnTenants() {
      return (await allPages<S['Tenant']>('getAllTenantsManagedByApplication', {}, 'tenants', (t) => t.id)).map(toTenant);
    },
    async searchTenants(q) {
      const res = await invoke('searchTenants', { query: { ...tenantSearchQuery(q), limit: String(PAGE_SIZE) } });
      return ((res.body ?? []) as Json<'searchTenants', 200>).map(toSearchResult);
    },
    async getTenant(r) {
      const res = await invoke('getTenantById', { path: { tenant_id: r.tenantId } });
      return toTenant(res.body as S['Tenant']);
    },
    async addTenant(input) {
      const res = await invoke('addTenant', { body: fromNewTenant(input) });
      return toTenant(res.body as S['Tenant']);
    },
    async updateTenant(r) {
      const res = await invoke('modifyPartsOfTenant', { path: { tenant_id: r.tenantId }, body: fromTenantPatch(r.patch) });
      return toTenant(res.body as S['Tenant']);
    },

    async listTenantApplications(r) {
      const res = await invoke('getAllApplicationsAddedToTenant', {
        path: { tenant_id: r.tenantId },
        query: r.inherited === undefined ? {} : { is_inherited: String(r.inherited) },
      });
      return ((res.body ?? []) as S['TenantApplication'][]).map(toTenantApplication);
    },
    addTenantApplication: (r) => write('addApplicationToTenant', { path: tenantApp(r) }),
    deleteTenantApplication: (r) => write('deleteApplicationFromTenant', { path: tenantApp(r) }),
    suspendTenantApplication: (r) => write('suspendApplication', { path: tenantApp(r) }),
    resumeTenantApplication: (r) => write('resumeApplication', { path: tenantApp(r) }),

    listLinkedUsers,
    async findUsersByExternalId(q) {
      const res = await invoke('getUsersByApplicationIdAndExternalId', { query: { application_id: q.applicationId, external_id: q.externalId } });
      return ((res.body ?? []) as S['User'][]).map(toUser);
    },
    async addUser(input) {
      try {
        const res = await invoke('addUser', { body: fromNewUser(input) });
        const user = toUser(res.body as S['User']);
        return { outcome: res.status === 201 ? 'created' : 'linked', userId: user.id, user };
      } catch (e) {
        if (!(e instanceof ConnectConflictError && e.errorCode === 'ERROR_USER_LINKED_TO_CLIENT')) throw e;
        // The 409 names no account: the one linked to us with that email is it.
        const same = (await listLinkedUsers({ email: input.email })).filter((u) => u.email.toLowerCase() === input.email.toLowerCase());
        if (same.length !== 1) throw e;
        return { outcome: 'alreadyLinked', userId: same[0]!.id, user: same[0]! };
      }
    },
    async getUser(r) {
      const res = await invoke('getUser', { path: { user_id: r.userId } });
      return toUser(res.body as S['User']);
    },
    setUserExternalId: (r) =>
      write('addRemoveExternalIdForApplication', {
        path: { user_id: r.userId, application_id: r.applicationId },
        body: [{ op: 'add', path: '/external_id', value: r.externalId }],
      }),
    unlinkUser: (r) => write('unlinkApplicationFromUser', { path: { user_id: r.userId } }),
    setEmailChangeAllowed: (r) => write('changeEmailChangeAllowedState', { path: { user_id: r.userId, state: String(r.allowed) } }),
    setTwoStepEnforced: (r) => write('change2StepAuthenticationEnforcement', { path: { user_id: r.userId, state: String(r.enforced) } }),

    async setUserTenantRoles(r) {
      const res = await invoke('grantUserRolesAndRevokeAllOthers', {
        path: { ...tenantApp(r), user_id: r.userId },
        body: { roles: [...r.roles] },
      });
      return res.body === null ? [] : [...(res.body as S['Roles']).roles].sort();
    },
    async listUserTenantRoles(r) {
      const items = await allPages<S['TenantWithRoles']>('getUserTenantsWithRolesForApplication', { application_id: r.applicationId, user_id: r.userId }, 'tenants', (t) => t.id);
      return items.map(toTenantRoles).filter((t) => t.roles.length > 0);
    },
    async listTenantApplicationUsers(r) {
      return (await allPages<S['User']>('getUsersForTenantAndApplication', tenantApp(r), 'users', (u) => u.id)).map(toUser);
    },
    async listRoleHolders(r) {
      const items = await allPages<S['RoleUser']>('getUsersForRoleOnTenant', { ...tenantApp(r), role: r.role }, 'users', (u) => u.email.toLowerCase());
      return items.map(toRoleHolder);
    },

    async getApplication(r) {
      const res = await invoke('getApplication', { path: { application_id: r.applicationId } });
      return { applicationId: r.applicationId, name: (res.body as S['Application']).name ?? null };
    },
    async listApplicationRoles(r) {
      const res = await invoke('getAllRolesForApplication', { path: { application_id: r.applicationId } });
      return res.body === null ? [] : [...(res.body as S['Roles']).roles].sort();
    },
    async listCountries() {
      const res = await invoke('getCountries');
      return ((res.body ?? []) as Json<'getCountries', 200>).map((c) => ({ iso2Code: c.iso2Code, name: c.name ?? null }));
    },
    async listLanguages() {
      const res = await invoke('getLanguages');
      return ((res.body ?? []) as Json<'getLanguages', 200>).map((l) => ({ code: l.code, name: l.name ?? null }));
    },
    async listBusinessUnits() {
      const res = await invoke('getVismaBusinessUnits');
      return ((res.body ?? []) as Array<string | { name: string }>).map((b) => (typeof b === 'string' ? b : b.name));
    },
  };
}
