/**
 * observe(): what Connect looks like for the objects ud-bridge manages. A delta run trusts the
 * local mirror of what it last applied; a full run re-reads every linked tenant and account from
 * Connect (to find drift). Both look up candidates for companies that have no link yet.
 */
import { ConnectNotFoundError } from '../connect/errors.js';
import type { ConnectApi, Tenant } from '../connect/port.js';
import type { AppStatus, DesiredState, Grant, ObservedAccount, ObservedState, ObservedTenant, TenantCandidate } from '../domain/desired.js';
import type { RunMode } from '../domain/run.js';
import type { StateStore } from '../state/store.js';

export interface ObserveOptions {
  readonly mode: RunMode;
  readonly softMatch: boolean;
  readonly managedApplications: readonly string[];
}

export async function observe(desired: DesiredState, store: StateStore, connect: ConnectApi, options: ObserveOptions): Promise<ObservedState> {
  const mirror = store.observed();
  const linked = new Set(mirror.tenants.map((t) => t.companyKey));
  const unlinked = desired.tenants.filter((t) => !linked.has(t.companyKey));

  const candidates: Record<string, { hard: TenantCandidate[]; soft: TenantCandidate[] }> = {};
  await Promise.all(
    unlinked.map(async (t) => {
      const hard = await collect(connect.searchTenants({ externalId: t.companyKey }));
      const soft =
        options.softMatch && !hard.some((c) => c.ownerClientId === connect.clientId && c.externalId === t.companyKey)
          ? await collect(connect.searchTenants({ countryCode: t.countryCode, organizationNumber: t.organizationNumber, operator: 'AND' }))
          : [];
      candidates[t.companyKey] = { hard, soft };
    }),
  );

  if (options.mode === 'delta') return { ...mirror, candidates };

  const tenants = (await Promise.all(mirror.tenants.map((t) => readTenant(connect, t)))).filter((t): t is ObservedTenant => t !== null);
  const accounts = await Promise.all(mirror.accounts.map((a) => readAccount(connect, a, tenants, options.managedApplications)));
  return { tenants, accounts, candidates };
}

async function collect(it: AsyncIterable<Tenant>): Promise<TenantCandidate[]> {
  const out: TenantCandidate[] = [];
  for await (const t of it) {
    out.push({
      tenantId: t.id,
      externalId: t.externalId,
      ownerClientId: t.ownerClientId,
      organizationName: t.organizationName,
      organizationNumber: t.organizationNumber,
      countryCode: t.countryCode,
    });
  }
  return out;
}

/** A tenant that is gone from Connect is dropped: the planner then finds or creates it again. */
async function readTenant(connect: ConnectApi, t: ObservedTenant): Promise<ObservedTenant | null> {
  try {
    const [tenant, apps] = await Promise.all([
      connect.getTenant({ tenantId: t.tenantId }),
      connect.listTenantApplications({ tenantId: t.tenantId, includeInherited: false }),
    ]);
    const applications: Record<string, AppStatus> = {};
    for (const a of apps) if (!a.isInherited) applications[a.applicationId] = a.status;
    return {
      companyKey: t.companyKey,
      tenantId: t.tenantId,
      name: tenant.organizationName,
      organizationNumber: tenant.organizationNumber,
      countryCode: tenant.countryCode,
      applications,
    };
  } catch (e) {
    if (e instanceof ConnectNotFoundError) return null;
    throw e;
  }
}

async function readAccount(connect: ConnectApi, a: ObservedAccount, tenants: readonly ObservedTenant[], apps: readonly string[]): Promise<ObservedAccount> {
  if (!a.linked) return a; // not ours to read: Connect hides accounts that are not linked to us
  let links;
  let user;
  try {
    [links, user] = await Promise.all([connect.listUserApplications({ userId: a.userId }), connect.getUser({ userId: a.userId })]);
  } catch (e) {
    // Unlinked behind our back: the account is no longer visible to us.
    if (e instanceof ConnectNotFoundError) return { ...a, linked: false, externalIdSet: false, grants: [], profile: null };
    throw e;
  }
  const ours = links.find((l) => l.applicationId === connect.clientId);
  const grants: Grant[] = [];
  for (const applicationId of apps) {
    const anywhere = await connect.getUserRoles({ applicationId, userId: a.userId });
    if (anywhere.length === 0) continue;
    for (const t of tenants) {
      const roles = await connect.getUserTenantRoles({ tenantId: t.tenantId, applicationId, userId: a.userId });
      if (roles.length > 0) grants.push({ companyKey: t.companyKey, applicationId, roles: [...roles].sort() });
    }
  }
  return {
    userKey: a.userKey,
    userId: a.userId,
    linked: ours !== undefined,
    externalIdSet: ours?.externalId === a.userKey,
    twoStepEnforced: user.twoStepEnforced,
    emailChangeAllowed: user.emailChangeAllowed,
    grants: grants.sort((x, y) => (x.companyKey + x.applicationId < y.companyKey + y.applicationId ? -1 : 1)),
    profile: { email: user.email, firstName: user.firstName, lastName: user.lastName },
  };
}
