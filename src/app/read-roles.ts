/**
 * The roles part of a full read, per managed application the cheaper of two ways
 * (full-read-cost.ts): by account (each linked account's tenants with roles) or by tenant (the
 * application's catalog, then each role's holders on each tenant that has the application).
 * Which is cheaper follows the directory's shape, and the local mirror knows that shape before
 * anything is read: how many accounts hold each role where, and on how many tenants each account
 * holds roles. Both ways give the same answer, keyed by account id then application.
 */
import type { ConnectApi, ConnectUser, TenantRoles } from '../connect/port.js';
import type { ObservedAccount, ObservedTenant } from '../domain/desired.js';
import { applicationShape, roleReadCost, type RoleReadStrategy } from './full-read-cost.js';

export type RolesByAccount = Record<string, Record<string, TenantRoles[]>>;

export interface RoleReadPlan {
  readonly applicationId: string;
  readonly strategy: RoleReadStrategy;
  /** The calls each way, as the mirror's shape puts them. */
  readonly estimate: { readonly byAccount: number; readonly byTenant: number };
}

/** Per application, the cheaper way as the mirror's shape and the catalog's size put it. */
export function planRoleReads(
  mirror: { readonly tenants: readonly ObservedTenant[]; readonly accounts: readonly ObservedAccount[] },
  applicationIds: readonly string[],
  accountCount: number,
  catalogSize: (applicationId: string) => number = () => 0,
): RoleReadPlan[] {
  const linked = mirror.accounts.filter((a) => a.linked);
  return applicationIds.map((applicationId) => {
    const tenants = mirror.tenants.filter((t) => t.applications[applicationId] !== undefined).map((t) => t.companyKey);
    const grants = linked.flatMap((a) => a.grants.filter((g) => g.applicationId === applicationId).map((g) => ({ userKey: a.userKey, companyKey: g.companyKey, roles: g.roles })));
    const shape = applicationShape(applicationId, catalogSize(applicationId), tenants, grants, linked.map((a) => a.userKey));
    // Accounts the mirror does not hold (found by anchor) cost one read each by account too.
    const extra = Math.max(0, accountCount - linked.length);
    const cost = roleReadCost({ ...shape, catalogKnown: true, tenantsPerAccount: [...shape.tenantsPerAccount, ...new Array<number>(extra).fill(0)] });
    return { applicationId, strategy: cost.cheaper, estimate: { byAccount: cost.byAccount, byTenant: cost.byTenant } };
  });
}

export interface ReadRolesInput {
  readonly connect: ConnectApi;
  readonly applicationIds: readonly string[];
  /**
   * Each application's role catalog as the config's program map gives it. Reading by tenant lists
   * the holders of each role of the catalog, so an application without one is read by account
   * (the catalog's own read needs a scope a sync does not ask for).
   */
  readonly catalogs: Readonly<Record<string, readonly string[] | undefined>>;
  /** The accounts whose roles are wanted. */
  readonly accountIds: ReadonlySet<string>;
  /** Accounts linked to us, to know a role holder (named by email) by id. */
  readonly linkedUsers: readonly ConnectUser[];
  /** Tenants read, with the applications directly on each. */
  readonly tenantApplications: Readonly<Record<string, readonly { readonly applicationId: string; readonly inherited: boolean }[]>>;
  readonly tenantExternalId: (tenantId: string) => string | null;
  readonly mirror: { readonly tenants: readonly ObservedTenant[]; readonly accounts: readonly ObservedAccount[] };
  /** Runs `fn` over `items`, a bounded number at a time. */
  readonly each: <T>(items: readonly T[], fn: (item: T) => Promise<void>) => Promise<void>;
}

export async function readRoles(input: ReadRolesInput): Promise<{ roles: RolesByAccount; plans: RoleReadPlan[] }> {
  const { connect, accountIds } = input;
  const roles: RolesByAccount = {};
  for (const id of accountIds) roles[id] = {};
  const withCatalog = input.applicationIds.filter((a) => (input.catalogs[a]?.length ?? 0) > 0);
  const plans = [
    ...planRoleReads(input.mirror, withCatalog, accountIds.size, (a) => input.catalogs[a]!.length),
    ...input.applicationIds.filter((a) => !withCatalog.includes(a)).map((applicationId): RoleReadPlan => ({ applicationId, strategy: 'byAccount', estimate: { byAccount: accountIds.size, byTenant: Number.POSITIVE_INFINITY } })),
  ];
  const byAccount: string[] = [];
  for (const p of plans) {
    if (p.strategy === 'byAccount') byAccount.push(p.applicationId);
    else await readByTenant(input, p.applicationId, input.catalogs[p.applicationId]!, roles);
  }
  if (byAccount.length) {
    await input.each([...accountIds].sort(), async (userId) => {
      for (const applicationId of byAccount) roles[userId]![applicationId] = await connect.listUserTenantRoles({ userId, applicationId });
    });
  }
  return { roles, plans };
}

async function readByTenant(input: ReadRolesInput, applicationId: string, catalog: readonly string[], roles: RolesByAccount): Promise<void> {
  // Holders are named by email; an address belongs to one account at a time.
  const idByEmail = new Map(input.linkedUsers.map((u) => [u.email.toLowerCase(), u.id]));
  const tenants = Object.entries(input.tenantApplications)
    .filter(([, apps]) => apps.some((a) => a.applicationId === applicationId && !a.inherited))
    .map(([tenantId]) => tenantId)
    .sort();
  const held = new Map<string, Map<string, string[]>>(); // account → tenant → roles
  const reads = tenants.flatMap((tenantId) => catalog.map((role) => ({ tenantId, role })));
  await input.each(reads, async ({ tenantId, role }) => {
    for (const h of await input.connect.listRoleHolders({ tenantId, applicationId, role })) {
      const userId = idByEmail.get(h.email.toLowerCase());
      if (userId === undefined || !input.accountIds.has(userId)) continue; // not an account of ours
      let at = held.get(userId);
      if (!at) held.set(userId, (at = new Map()));
      const list = at.get(tenantId);
      if (list) list.push(role);
      else at.set(tenantId, [role]);
    }
  });
  for (const userId of input.accountIds) {
    const at = held.get(userId);
    roles[userId]![applicationId] = at
      ? [...at].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([tenantId, list]) => ({ tenantId, externalId: input.tenantExternalId(tenantId), roles: [...new Set(list)].sort() }))
      : [];
  }
}
