/**
 * What "converged" means after chaos: the simulator's state compared with what the final
 * directory says it should be. Every difference is one line a person can read. Duplicates and
 * roles on a wrong account are the failures that matter most, so each has its own check.
 */
import type { DesiredState } from '../domain/desired.js';
import type { SimDump } from '../sim/seed.js';

export interface ExpectedScope {
  readonly clientId: string;
  readonly managedApplications: readonly string[];
}

export function differences(desired: DesiredState, dump: SimDump, scope: ExpectedScope): string[] {
  const out: string[] = [];
  const managed = new Set(scope.managedApplications);
  const ourTenants = dump.tenants.filter((t) => t.application_id === scope.clientId);

  const tenantsByKey = new Map<string, typeof ourTenants>();
  for (const t of ourTenants) if (t.external_id) tenantsByKey.set(t.external_id, [...(tenantsByKey.get(t.external_id) ?? []), t]);
  for (const [key, list] of tenantsByKey) if (list.length > 1) out.push(`duplicate tenant: ${list.length} tenants with external_id ${key}`);
  const tenantOf = new Map<string, string>();
  for (const t of desired.tenants) {
    const found = tenantsByKey.get(t.companyKey) ?? [];
    if (found.length === 0) {
      out.push(`missing tenant for company ${t.companyKey}`);
      continue;
    }
    const tenant = found[0]!;
    tenantOf.set(t.companyKey, tenant.id);
    if (tenant.organization_name !== t.name) out.push(`tenant ${t.companyKey}: name "${tenant.organization_name}", expected "${t.name}"`);
    const active = tenant.applications.filter((a) => managed.has(a.application_id) && a.status === 'active').map((a) => a.application_id).sort();
    if (active.join() !== [...t.applications].sort().join()) out.push(`tenant ${t.companyKey}: active applications [${active}], expected [${[...t.applications].sort()}]`);
  }

  const linked = dump.users.filter((u) => u.applications.some((a) => a.application_id === scope.clientId));
  const anchorOf = (u: (typeof linked)[number]) => u.applications.find((a) => a.application_id === scope.clientId)!.external_id;
  const byAnchor = new Map<string, typeof linked>();
  for (const u of linked) {
    const a = anchorOf(u);
    if (a) byAnchor.set(a, [...(byAnchor.get(a) ?? []), u]);
  }
  for (const [key, list] of byAnchor) if (list.length > 1) out.push(`duplicate link: ${list.length} accounts anchored to user ${key}`);
  const emails = new Map<string, number>();
  for (const u of dump.users) emails.set(u.email.toLowerCase(), (emails.get(u.email.toLowerCase()) ?? 0) + 1);
  for (const [email, n] of emails) if (n > 1) out.push(`duplicate account: ${n} accounts with email ${email}`);

  const accountOf = new Map<string, string>();
  const wanted = new Set(desired.users.map((u) => u.userKey));
  for (const u of desired.users) {
    const found = byAnchor.get(u.userKey) ?? [];
    if (found.length === 0) {
      if (!u.linkBlocked) out.push(`missing link for user ${u.userKey}`);
      continue;
    }
    const account = found[0]!;
    accountOf.set(account.id, u.userKey);
    if (account.email.toLowerCase() !== u.email.toLowerCase()) out.push(`mislink: user ${u.userKey} (${u.email}) is anchored to account ${account.id} (${account.email})`);
  }
  // A departing user stays linked only while it holds grants under a suspended application (they
  // cannot be revoked until it is resumed, and unlinking would forget them): that is by design.
  const suspendedGrant = (userId: string) =>
    dump.roles.some((g) => g.user_id === userId && g.roles.length > 0 && ourTenants.find((t) => t.id === g.tenant_id)?.applications.find((a) => a.application_id === g.application_id)?.status === 'suspended');
  for (const [key, list] of byAnchor) {
    if (!wanted.has(key) && !list.every((u) => suspendedGrant(u.id))) out.push(`stale link: user ${key} is not wanted but ${list.length} account(s) stay linked`);
  }

  // Roles on our tenants for our applications: exactly the desired set, and only on the right account.
  const expectedRoles = new Map<string, string>();
  for (const u of desired.users) {
    for (const g of u.grants) {
      const tenantId = tenantOf.get(g.companyKey);
      if (tenantId) expectedRoles.set(`${tenantId}|${g.applicationId}|${u.userKey}`, [...g.roles].sort().join(','));
    }
  }
  const ourIds = new Set(ourTenants.map((t) => t.id));
  const seen = new Set<string>();
  for (const grant of dump.roles) {
    if (!ourIds.has(grant.tenant_id) || !managed.has(grant.application_id) || grant.roles.length === 0) continue;
    const tenant = ourTenants.find((t) => t.id === grant.tenant_id)!;
    if (tenant.applications.find((a) => a.application_id === grant.application_id)?.status === 'suspended') continue; // kept by design
    const userKey = accountOf.get(grant.user_id);
    if (!userKey) {
      out.push(`role on a wrong account: ${grant.roles.join(',')} for ${grant.application_id} on tenant ${tenant.external_id} belong to account ${grant.user_id}, which no wanted user is linked to`);
      continue;
    }
    const k = `${grant.tenant_id}|${grant.application_id}|${userKey}`;
    seen.add(k);
    const want = expectedRoles.get(k);
    const have = [...grant.roles].sort().join(',');
    if (want !== have) out.push(`roles of ${userKey} for ${grant.application_id} at ${tenant.external_id}: [${have}], expected [${want ?? ''}]`);
  }
  for (const [k, roles] of expectedRoles) {
    if (!seen.has(k)) {
      const [tenantId, app, userKey] = k.split('|');
      if (accountOf.size && [...accountOf.values()].includes(userKey!)) out.push(`missing roles of ${userKey} for ${app} on tenant ${tenantId}: expected [${roles}]`);
    }
  }
  return out.sort();
}
