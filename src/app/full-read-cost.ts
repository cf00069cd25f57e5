/**
 * How many calls a full read of Connect needs, from the API's page size (50) and the shape of
 * what there is to read. Pure: the same function tells a run which way to read roles (it knows
 * the shape from the local mirror, close to Connect's) and the bench what the least is.
 *
 * What a full read must learn, and the one way or the cheaper of two ways to learn it:
 *   our tenants                 GET /v1.0/tenants, paged
 *   applications per tenant     GET /v1.0/tenants/{t}/applications, one call per linked tenant
 *   accounts linked to us       GET /v1.0/users, paged
 *   each account's anchor       GET /v2.0/users?application_id&external_id, one per VUD user key
 *                               (no list carries the external id)
 *   flags, where VUD owns them  GET /v1.0/users/{u} for accounts no other read returned whole
 *   roles, per application, the cheaper of
 *     by account                GET /v2.0/tenants/applications/{a}/users/{u}: an account's tenants
 *                               with roles, paged, one read per linked account
 *     by tenant                 the catalog (from the config, or GET /v1.0/applications/{a}/roles),
 *                               then for each tenant with the application and each role of the
 *                               catalog GET …/tenants/{t}/applications/{a}/roles/{role}/users, paged
 * Many users per company makes "by tenant" cheaper (2k tenants x 9 roles, not 100k accounts);
 * few users across many companies makes "by account" cheaper.
 */

/** The most items a list answers per page (per_page and limit are 1–50). */
export const API_PAGE_SIZE = 50;

/** Calls to read a list of `items`: an empty list still takes one (its 204). */
export function pagesFor(items: number, pageSize = API_PAGE_SIZE): number {
  return Math.max(1, Math.ceil(items / pageSize));
}

export interface ApplicationShape {
  readonly applicationId: string;
  /** Roles in the application's catalog (each is one holder list per tenant). */
  readonly catalogSize: number;
  /** The catalog is known without a read (the config's program map names it); default false. */
  readonly catalogKnown?: boolean;
  /**
   * For each tenant that has the application: how many accounts hold each role there, for the
   * roles that anyone holds (the catalog's others cost one call each, counted from catalogSize).
   */
  readonly holders: readonly (readonly number[])[];
  /** For each linked account: on how many tenants it holds roles for the application. */
  readonly tenantsPerAccount: readonly number[];
}

export interface ConnectShape {
  /** Tenants GET /v1.0/tenants lists (every tenant we own). */
  readonly ownTenants: number;
  /** Tenants whose applications are read (those linked to a company). */
  readonly linkedTenants: number;
  /** Accounts GET /v1.0/users lists (every account linked to us). */
  readonly linkedAccounts: number;
  /** VUD user keys whose anchor is looked up. */
  readonly anchorLookups: number;
  /** Accounts read one by one for the 2-step and email-change flags (0 unless VUD owns one). */
  readonly flagReads: number;
  readonly applications: readonly ApplicationShape[];
}

export type RoleReadStrategy = 'byAccount' | 'byTenant';

export interface RoleReadCost {
  readonly applicationId: string;
  readonly byAccount: number;
  readonly byTenant: number;
  readonly cheaper: RoleReadStrategy;
}

export interface FullReadCost {
  readonly total: number;
  readonly tenants: number;
  readonly applications: number;
  readonly accounts: number;
  readonly anchors: number;
  readonly flags: number;
  readonly roles: readonly RoleReadCost[];
}

/** Calls to read one application's roles each way. */
export function roleReadCost(app: ApplicationShape, pageSize = API_PAGE_SIZE): RoleReadCost {
  let byAccount = 0;
  for (const tenants of app.tenantsPerAccount) byAccount += pagesFor(tenants, pageSize);
  let byTenant = app.catalogKnown ? 0 : 1; // the catalog's own read
  for (const held of app.holders) {
    if (held.length > app.catalogSize) throw new RangeError(`${app.applicationId}: ${held.length} roles held on a tenant, more than its catalog of ${app.catalogSize}`);
    let calls = app.catalogSize - held.length;
    for (const n of held) calls += pagesFor(n, pageSize);
    byTenant += calls;
  }
  return { applicationId: app.applicationId, byAccount, byTenant, cheaper: byTenant < byAccount ? 'byTenant' : 'byAccount' };
}

/** The least number of calls a full read of `shape` needs, and what each part costs. */
export function leastFullRead(shape: ConnectShape, pageSize = API_PAGE_SIZE): FullReadCost {
  const roles = shape.applications.map((a) => roleReadCost(a, pageSize));
  const tenants = pagesFor(shape.ownTenants, pageSize);
  const accounts = pagesFor(shape.linkedAccounts, pageSize);
  const rolesTotal = roles.reduce((sum, r) => sum + Math.min(r.byAccount, r.byTenant), 0);
  return {
    total: tenants + shape.linkedTenants + accounts + shape.anchorLookups + shape.flagReads + rolesTotal,
    tenants,
    applications: shape.linkedTenants,
    accounts,
    anchors: shape.anchorLookups,
    flags: shape.flagReads,
    roles,
  };
}

/** The shape of one application's roles from grants as the mirror (or Connect) holds them. */
export function applicationShape(
  applicationId: string,
  catalogSize: number,
  tenantsWithApplication: readonly string[],
  grants: Iterable<{ readonly userKey: string; readonly companyKey: string; readonly roles: readonly string[] }>,
  linkedAccounts: readonly string[],
): ApplicationShape {
  const onTenant = new Map<string, Map<string, number>>(tenantsWithApplication.map((t) => [t, new Map()]));
  const perAccount = new Map<string, number>(linkedAccounts.map((u) => [u, 0]));
  for (const g of grants) {
    if (g.roles.length === 0) continue;
    if (perAccount.has(g.userKey)) perAccount.set(g.userKey, perAccount.get(g.userKey)! + 1);
    const holders = onTenant.get(g.companyKey);
    if (!holders) continue;
    for (const r of g.roles) holders.set(r, (holders.get(r) ?? 0) + 1);
  }
  // A role held that the catalog does not list still costs its own read.
  let size = catalogSize;
  for (const h of onTenant.values()) size = Math.max(size, h.size);
  return {
    applicationId,
    catalogSize: size,
    holders: [...onTenant.values()].map((h) => [...h.values()]),
    tenantsPerAccount: [...perAccount.values()],
  };
}
