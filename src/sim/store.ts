/**
 * The simulator's state and its indexes. Rules live in tenants.ts / users.ts / roles.ts; this file
 * keeps the records and every index consistent, so handlers stay O(1)/O(log n) per request.
 */
import { SimSeedError } from './api-error.js';
import type { SimDump } from './seed.js';

export type AppStatus = 'active' | 'suspended';

/** An application on a tenant: when it was added, and since when it is suspended (null = active). */
export interface TenantAppRec {
  readonly created_date: string;
  suspended_date: string | null;
}

export interface ClientRec {
  readonly clientId: string;
  readonly secret: string;
  readonly scopes: ReadonlySet<string> | null;
  readonly thirdParty: boolean;
}

export interface AppRec {
  readonly applicationId: string;
  readonly name: string | null;
  readonly roles: readonly string[];
  readonly roleSet: ReadonlySet<string>;
  readonly grants: ReadonlySet<string>;
}

export interface TenantRec {
  readonly id: string;
  organization_name: string;
  organization_number: string;
  country_code: string;
  external_id: string | null;
  business_unit_name: string;
  readonly parent_id: string | null;
  /** The owner: the application (client) that added the tenant. */
  readonly application_id: string;
  address_1: string | null;
  postal_code: string | null;
  city: string | null;
  allow_self_activation: boolean;
  domains: Array<{ name: string; verified: boolean }>;
  readonly applications: Map<string, TenantAppRec>;
  readonly created_date: string;
  updated_date: string;
  readonly seq: number;
}

export interface UserRec {
  readonly id: string;
  email: string;
  email_verified: boolean;
  first_name: string;
  last_name: string;
  country_code: string | null;
  preferred_language: string | null;
  unverified_phone_number: string | null;
  email_change_allowed: boolean;
  two_step_enforced: boolean;
  /** application id → that application's external id for the user. */
  readonly applications: Map<string, string | null>;
  readonly created_date: string;
  updated_date: string;
  readonly seq: number;
}

export interface SubscriptionRec {
  readonly id: string;
  readonly url: string;
  readonly secret: string;
  readonly application_id: string;
  readonly events: readonly string[] | null;
}

const key2 = (a: string, b: string): string => `${a}\u0000${b}`;
const key3 = (a: string, b: string, c: string): string => `${a}\u0000${b}\u0000${c}`;

function addTo<K, V>(map: Map<K, Set<V>>, k: K, v: V): void {
  let set = map.get(k);
  if (!set) map.set(k, (set = new Set()));
  set.add(v);
}
function removeFrom<K, V>(map: Map<K, Set<V>>, k: K, v: V): void {
  const set = map.get(k);
  if (!set) return;
  set.delete(v);
  if (set.size === 0) map.delete(k);
}

export class SimStore {
  readonly clients = new Map<string, ClientRec>();
  readonly applications = new Map<string, AppRec>();
  readonly tenants = new Map<string, TenantRec>();
  readonly users = new Map<string, UserRec>();
  readonly subscriptions = new Map<string, SubscriptionRec>();
  /** The Visma business unit names a tenant may carry. */
  businessUnits: readonly string[] = [];

  private readonly tenantByOwnerExternalId = new Map<string, string>();
  private readonly tenantsByExternalId = new Map<string, Set<string>>();
  private readonly tenantsByOrgNumber = new Map<string, Set<string>>();
  private readonly tenantsByDomain = new Map<string, Set<string>>();
  private readonly childTenants = new Map<string, Set<string>>();
  private readonly userByEmail = new Map<string, string>();
  private readonly usersByApplication = new Map<string, Set<string>>();
  private readonly grants = new Map<string, string[]>();
  private readonly grantUsersByTenantApp = new Map<string, Set<string>>();
  private readonly grantTenantsByAppUser = new Map<string, Set<string>>();
  private seq = 0;
  /**
   * (application, external id) → the linked accounts carrying it, rebuilt after any change to an
   * account's links or external ids: a full run looks up every user's anchor, and a scan of every
   * account per lookup made 20k lookups take minutes of the simulator's CPU.
   */
  private carriers: Map<string, string[]> | null = null;

  constructor(seed: SimDump) {
    this.load(seed);
  }

  load(seed: SimDump): void {
    this.carriers = null;
    for (const m of [this.clients, this.applications, this.tenants, this.users, this.subscriptions]) m.clear();
    for (const m of [this.tenantByOwnerExternalId, this.userByEmail, this.grants]) m.clear();
    for (const m of [this.tenantsByExternalId, this.tenantsByOrgNumber, this.tenantsByDomain, this.childTenants]) m.clear();
    for (const m of [this.usersByApplication, this.grantUsersByTenantApp, this.grantTenantsByAppUser]) m.clear();
    for (const c of seed.clients) {
      this.clients.set(c.client_id, {
        clientId: c.client_id,
        secret: c.client_secret,
        scopes: c.scopes ? new Set(c.scopes) : null,
        thirdParty: c.third_party,
      });
    }
    for (const a of seed.applications) {
      this.applications.set(a.application_id, {
        applicationId: a.application_id,
        name: a.name,
        roles: [...a.roles],
        roleSet: new Set(a.roles),
        grants: new Set(a.tenant_provisioning_grants),
      });
    }
    for (const t of seed.tenants) {
      if (this.tenants.has(t.id)) throw new SimSeedError(`seed tenants: duplicate id ${t.id}`);
      const { applications, ...rest } = t;
      const apps = new Map(applications.map((a) => [a.application_id, { created_date: t.created_date, suspended_date: a.status === 'suspended' ? t.updated_date : null }]));
      this.insertTenant({ ...rest, domains: t.domains.map((d) => ({ ...d })), applications: apps, seq: ++this.seq });
    }
    for (const t of this.tenants.values()) {
      if (t.parent_id !== null && !this.tenants.has(t.parent_id)) {
        throw new SimSeedError(`seed tenant ${t.id}: parent_id ${t.parent_id} does not exist`);
      }
    }
    for (const u of seed.users) {
      if (this.userByEmail.has(u.email.toLowerCase())) throw new SimSeedError(`seed users: email ${u.email} is used twice`);
      const { applications, '2step_enforced': twoStep, ...rest } = u;
      this.insertUser({ ...rest, two_step_enforced: twoStep, applications: new Map(), seq: ++this.seq });
      for (const a of applications) this.linkUser(u.id, a.application_id, a.external_id);
    }
    for (const g of seed.roles) {
      if (!this.tenants.has(g.tenant_id) || !this.users.has(g.user_id)) {
        throw new SimSeedError(`seed roles: tenant ${g.tenant_id} or user ${g.user_id} does not exist`);
      }
      this.setGrant(g.tenant_id, g.application_id, g.user_id, g.roles);
    }
    for (const s of seed.subscriptions) this.subscriptions.set(s.id, { ...s });
    this.businessUnits = [...seed.business_units];
  }

  nextSeq(): number {
    return ++this.seq;
  }

  // ---- tenants

  insertTenant(t: TenantRec): void {
    this.tenants.set(t.id, t);
    this.indexTenant(t);
    if (t.parent_id !== null) addTo(this.childTenants, t.parent_id, t.id);
  }

  /** Call with the tenant's old values gone from the indexes: `unindexTenant`, mutate, `indexTenant`. */
  unindexTenant(t: TenantRec): void {
    if (t.external_id !== null) {
      this.tenantByOwnerExternalId.delete(key2(t.application_id, t.external_id));
      removeFrom(this.tenantsByExternalId, t.external_id.toLowerCase(), t.id);
    }
    removeFrom(this.tenantsByOrgNumber, t.organization_number.toLowerCase(), t.id);
    for (const d of t.domains) if (d.verified) removeFrom(this.tenantsByDomain, d.name.toLowerCase(), t.id);
  }

  indexTenant(t: TenantRec): void {
    if (t.external_id !== null) {
      this.tenantByOwnerExternalId.set(key2(t.application_id, t.external_id), t.id);
      addTo(this.tenantsByExternalId, t.external_id.toLowerCase(), t.id);
    }
    addTo(this.tenantsByOrgNumber, t.organization_number.toLowerCase(), t.id);
    for (const d of t.domains) if (d.verified) addTo(this.tenantsByDomain, d.name.toLowerCase(), t.id);
  }

  /** Tenants owned by one application, in insertion order. */
  tenantsOwnedBy(owner: string): TenantRec[] {
    return [...this.tenants.values()].filter((t) => t.application_id === owner).sort((a, b) => a.seq - b.seq);
  }

  tenantIdByOwnerExternalId(owner: string, externalId: string): string | undefined {
    return this.tenantByOwnerExternalId.get(key2(owner, externalId));
  }

  /** Candidate sets for exact (wildcard-free, case-insensitive) lookups. */
  tenantIdsByExternalId(value: string): ReadonlySet<string> {
    return this.tenantsByExternalId.get(value.toLowerCase()) ?? new Set();
  }
  tenantIdsByOrgNumber(value: string): ReadonlySet<string> {
    return this.tenantsByOrgNumber.get(value.toLowerCase()) ?? new Set();
  }
  tenantIdsByDomain(value: string): ReadonlySet<string> {
    return this.tenantsByDomain.get(value.toLowerCase()) ?? new Set();
  }

  /** Nearest first. */
  ancestors(tenantId: string): TenantRec[] {
    const out: TenantRec[] = [];
    const seen = new Set<string>([tenantId]);
    let parent = this.tenants.get(tenantId)?.parent_id ?? null;
    while (parent !== null && !seen.has(parent)) {
      const t = this.tenants.get(parent);
      if (!t) break;
      out.push(t);
      seen.add(parent);
      parent = t.parent_id;
    }
    return out;
  }

  descendants(tenantId: string): TenantRec[] {
    const out: TenantRec[] = [];
    const queue = [...(this.childTenants.get(tenantId) ?? [])];
    const seen = new Set<string>([tenantId]);
    while (queue.length > 0) {
      const id = queue.shift()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const t = this.tenants.get(id);
      if (!t) continue;
      out.push(t);
      queue.push(...(this.childTenants.get(id) ?? []));
    }
    return out;
  }

  // ---- users

  insertUser(u: UserRec): void {
    this.users.set(u.id, u);
    this.userByEmail.set(u.email.toLowerCase(), u.id);
  }

  userIdByEmail(email: string): string | undefined {
    return this.userByEmail.get(email.toLowerCase());
  }

  setUserEmail(u: UserRec, email: string): void {
    this.userByEmail.delete(u.email.toLowerCase());
    u.email = email;
    this.userByEmail.set(email.toLowerCase(), u.id);
  }

  userIdsLinkedTo(applicationId: string): ReadonlySet<string> {
    return this.usersByApplication.get(applicationId) ?? new Set();
  }

  /** The ids of the accounts linked to `applicationId` that carry `externalId` for it. */
  userIdsCarrying(applicationId: string, externalId: string): readonly string[] {
    if (!this.carriers) {
      this.carriers = new Map();
      for (const u of this.users.values()) {
        for (const [app, ext] of u.applications) {
          if (ext === null) continue;
          const k = key2(app, ext);
          const list = this.carriers.get(k);
          if (list) list.push(u.id);
          else this.carriers.set(k, [u.id]);
        }
      }
    }
    return this.carriers.get(key2(applicationId, externalId)) ?? [];
  }

  /** Sets (or with null removes) an account's external id for an application it is linked to. */
  setExternalId(u: UserRec, applicationId: string, externalId: string | null): void {
    u.applications.set(applicationId, externalId);
    this.carriers = null;
  }

  linkUser(userId: string, applicationId: string, externalId: string | null = null): void {
    const u = this.users.get(userId);
    if (!u) return;
    this.carriers = null;
    u.applications.set(applicationId, externalId);
    addTo(this.usersByApplication, applicationId, userId);
  }

  unlinkUser(userId: string, applicationId: string): void {
    this.carriers = null;
    this.users.get(userId)?.applications.delete(applicationId);
    removeFrom(this.usersByApplication, applicationId, userId);
    for (const tenantId of [...this.tenantsWithGrants(applicationId, userId)]) this.setGrant(tenantId, applicationId, userId, []);
  }

  // ---- role grants

  getGrant(tenantId: string, applicationId: string, userId: string): readonly string[] {
    return this.grants.get(key3(tenantId, applicationId, userId)) ?? [];
  }

  /** An empty set removes the grant. Roles are kept sorted and unique. */
  setGrant(tenantId: string, applicationId: string, userId: string, roles: readonly string[]): void {
    const k = key3(tenantId, applicationId, userId);
    if (roles.length === 0) {
      this.grants.delete(k);
      removeFrom(this.grantUsersByTenantApp, key2(tenantId, applicationId), userId);
      removeFrom(this.grantTenantsByAppUser, key2(applicationId, userId), tenantId);
      return;
    }
    this.grants.set(k, [...new Set(roles)].sort());
    addTo(this.grantUsersByTenantApp, key2(tenantId, applicationId), userId);
    addTo(this.grantTenantsByAppUser, key2(applicationId, userId), tenantId);
  }

  usersWithGrants(tenantId: string, applicationId: string): ReadonlySet<string> {
    return this.grantUsersByTenantApp.get(key2(tenantId, applicationId)) ?? new Set();
  }

  tenantsWithGrants(applicationId: string, userId: string): ReadonlySet<string> {
    return this.grantTenantsByAppUser.get(key2(applicationId, userId)) ?? new Set();
  }

  // ---- dump

  dump(): SimDump {
    const byId = <T extends { id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    const byApp = <T extends { application_id: string }>(a: T, b: T): number => a.application_id.localeCompare(b.application_id);
    const roles = [...this.grants.entries()].map(([k, r]) => {
      const [tenant_id, application_id, user_id] = k.split('\u0000') as [string, string, string];
      return { tenant_id, application_id, user_id, roles: [...r] };
    });
    roles.sort((a, b) => (a.tenant_id + a.application_id + a.user_id < b.tenant_id + b.application_id + b.user_id ? -1 : 1));
    return {
      clients: [...this.clients.values()].map((c) => ({
        client_id: c.clientId,
        client_secret: c.secret,
        scopes: c.scopes ? [...c.scopes] : null,
        third_party: c.thirdParty,
      })),
      applications: [...this.applications.values()].map((a) => ({
        application_id: a.applicationId,
        name: a.name,
        roles: [...a.roles],
        tenant_provisioning_grants: [...a.grants],
      })),
      tenants: [...this.tenants.values()].sort(byId).map(({ applications, seq: _seq, ...t }) => ({
        ...t,
        domains: t.domains.map((d) => ({ ...d })),
        applications: [...applications].map(([application_id, a]) => ({ application_id, status: a.suspended_date === null ? ('active' as const) : ('suspended' as const) })).sort(byApp),
      })),
      users: [...this.users.values()].sort(byId).map(({ applications, seq: _seq, two_step_enforced, ...u }) => ({
        ...u,
        '2step_enforced': two_step_enforced,
        applications: [...applications].map(([application_id, external_id]) => ({ application_id, external_id })).sort(byApp),
      })),
      roles,
      subscriptions: [...this.subscriptions.values()].map((s) => ({ ...s, events: s.events ? [...s.events] : null })),
      business_units: [...this.businessUnits],
    };
  }
}
