/**
 * observe(): what Connect looks like for the objects ud-bridge manages, in two steps, the same
 * shape as DirectorySource.read() then project():
 *   readConnect()  the bulk reads Connect offers (tenants we own, accounts linked to us, the
 *                  accounts carrying each VUD key as our external id, each account's tenants
 *                  with roles), no per-tenant-per-user calls;
 *   toObserved()   a pure join of that snapshot with the local mirror.
 * A delta run trusts the mirror for what it applied last time and reads only what it must: our
 * tenants when a company has no link yet, and the anchor of every user without one, so an
 * account is found by our external id (the VUD user key) before anyone thinks of Add user.
 */
import type { ConnectApi, ConnectUser, Tenant, TenantApplication, TenantRoles } from '../connect/port.js';
import type { AppStatus, DesiredState, Grant, ObservedAccount, ObservedState, ObservedTenant, TenantCandidate } from '../domain/desired.js';
import type { RunMode } from '../domain/run.js';
import { readRoles } from './read-roles.js';

export interface ObserveOptions {
  readonly mode: RunMode;
  readonly softMatch: boolean;
  readonly managedApplications: readonly string[];
  /** Each managed application's role catalog from the program map, where it names one (read-roles.ts). */
  readonly catalogs?: Readonly<Record<string, readonly string[] | undefined>>;
  /** Read the 2-step and email-change flags only where VUD owns them. */
  readonly ownsTwoStep: boolean;
  readonly ownsEmailChangeAllowed: boolean;
}

export interface Mirror {
  readonly tenants: readonly ObservedTenant[];
  readonly accounts: readonly ObservedAccount[];
}

/** What Connect said, keyed by Connect ids and VUD keys; nothing joined yet. */
export interface ConnectSnapshot {
  /** Tenants we own; null when not read (a delta run with every company linked). */
  readonly tenants: readonly Tenant[] | null;
  /** Applications on each tenant read (by tenant id), as Connect lists them. */
  readonly applications: Readonly<Record<string, readonly TenantApplication[]>>;
  /** Accounts linked to us; null when not read (delta runs). */
  readonly linkedUsers: readonly ConnectUser[] | null;
  /** For each VUD user key looked up: the accounts carrying it as our external id. */
  readonly anchors: Readonly<Record<string, readonly ConnectUser[]>>;
  /** Accounts read one by one for their flags (those the anchor lookup did not return). */
  readonly users: Readonly<Record<string, ConnectUser>>;
  /** For each account id read: application id → the tenants where it holds roles. */
  readonly roles: Readonly<Record<string, Readonly<Record<string, readonly TenantRoles[]>>>>;
}

/** A VUD user key carried by an account other than the one linked to that user. */
export interface AnchorConflict {
  readonly userKey: string;
  /** The account linked to the user, or null when none is (then none is adopted). */
  readonly linkedUserId: string | null;
  readonly others: readonly string[];
}

export interface Observation {
  readonly observed: ObservedState;
  /** Accounts found by anchor that the mirror did not know: to be recorded as linked. */
  readonly adopted: readonly ObservedAccount[];
  /** Tenants found by anchor (our external id = the company key) that the mirror did not link. */
  readonly adoptedTenants: readonly ObservedTenant[];
  readonly anchorConflicts: readonly AnchorConflict[];
}

export async function observe(desired: DesiredState, mirror: Mirror, connect: ConnectApi, options: ObserveOptions): Promise<Observation> {
  return toObserved(mirror, await readConnect(desired, mirror, connect, options), desired, { ...options, clientId: connect.clientId });
}

/**
 * Reads started at once. The client's queue and its adaptive limit bound what is in flight, as for
 * writes; this only bounds how many calls wait in that queue, so it must not be lower than the
 * client's concurrency (8 here capped a full run at 160 reads/s at 50 ms latency).
 */
const READ_FANOUT = 64;

/** Runs `fn` over `items` with at most `n` at a time (the client's own queue bounds the rest). */
async function each<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

export async function readConnect(desired: DesiredState, mirror: Mirror, connect: ConnectApi, options: ObserveOptions): Promise<ConnectSnapshot> {
  const full = options.mode === 'full';
  const linkedCompanies = new Set(mirror.tenants.map((t) => t.companyKey));
  const needTenants = full || desired.tenants.some((t) => !linkedCompanies.has(t.companyKey));
  const tenants = needTenants ? await connect.listOwnTenants() : null;
  const owned = new Set((tenants ?? []).map((t) => t.id));

  const applications: Record<string, TenantApplication[]> = {};
  if (full) {
    const anchored = anchoredTenants(tenants ?? [], desired, linkedCompanies, connect.clientId).map(([, t]) => t.id);
    await each([...mirror.tenants.filter((t) => owned.has(t.tenantId)).map((t) => t.tenantId), ...anchored], READ_FANOUT, async (tenantId) => {
      applications[tenantId] = await connect.listTenantApplications({ tenantId, inherited: false });
    });
  }
  // The list of linked accounts is read page after page; the anchor lookups go on meanwhile.
  const linkedUsersRead = full ? connect.listLinkedUsers() : Promise.resolve(null);
  linkedUsersRead.catch(() => {}); // awaited below; a failure must not also be an unhandled rejection meanwhile

  // The anchor of every user the mirror does not link (all of them on a full run).
  const mirrored = new Map(mirror.accounts.map((a) => [a.userKey, a]));
  const keys = full
    ? [...new Set([...desired.users.map((u) => u.userKey), ...mirror.accounts.map((a) => a.userKey)])]
    : desired.users.filter((u) => !mirrored.get(u.userKey)?.linked).map((u) => u.userKey);
  const anchors: Record<string, ConnectUser[]> = {};
  await each(keys.sort(), READ_FANOUT, async (key) => {
    anchors[key] = await connect.findUsersByExternalId({ applicationId: connect.clientId, externalId: key });
  });

  const linkedUsers = await linkedUsersRead;
  // Roles: one bulk read per account and application, for linked accounts and newly found ones.
  const linkedIds = new Set((linkedUsers ?? []).map((u) => u.id));
  const accountIds = new Set<string>();
  if (full) for (const a of mirror.accounts) if (linkedIds.has(a.userId)) accountIds.add(a.userId);
  for (const [key, found] of Object.entries(anchors)) if (found.length === 1 && !mirrored.get(key)?.linked) accountIds.add(found[0]!.id);
  let roles: Record<string, Record<string, TenantRoles[]>> = {};
  if (full) {
    // By account or by tenant, per application, whichever the mirror's shape makes cheaper.
    const byTenantId = new Map((tenants ?? []).map((t) => [t.id, t]));
    roles = (await readRoles({
      connect,
      applicationIds: options.managedApplications,
      catalogs: options.catalogs ?? {},
      accountIds,
      linkedUsers: linkedUsers ?? [],
      tenantApplications: applications,
      tenantExternalId: (id) => byTenantId.get(id)?.externalId ?? null,
      mirror,
      each: (items, fn) => each(items, READ_FANOUT, fn),
    })).roles;
  } else {
    await each([...accountIds].sort(), READ_FANOUT, async (userId) => {
      const byApp: Record<string, TenantRoles[]> = {};
      for (const applicationId of options.managedApplications) byApp[applicationId] = await connect.listUserTenantRoles({ userId, applicationId });
      roles[userId] = byApp;
    });
  }

  // Flags only where VUD owns them, and only for accounts the anchor lookup did not return.
  const users: Record<string, ConnectUser> = {};
  if (full && (options.ownsTwoStep || options.ownsEmailChangeAllowed)) {
    const withFlags = new Set(Object.values(anchors).flat().map((u) => u.id));
    await each([...accountIds].filter((id) => !withFlags.has(id)).sort(), READ_FANOUT, async (userId) => {
      users[userId] = await connect.getUser({ userId });
    });
  }
  return { tenants, applications, linkedUsers, anchors, users, roles };
}

/** Unlinked companies whose key exactly one of our tenants carries as external id: theirs by anchor. */
function anchoredTenants(tenants: readonly Tenant[], desired: DesiredState, linked: ReadonlySet<string>, clientId: string): [string, Tenant][] {
  const out: [string, Tenant][] = [];
  for (const d of desired.tenants) {
    if (linked.has(d.companyKey)) continue;
    const carriers = tenants.filter((t) => t.ownerApplicationId === clientId && t.externalId === d.companyKey);
    if (carriers.length === 1) out.push([d.companyKey, carriers[0]!]);
  }
  return out;
}

function candidate(t: Tenant): TenantCandidate {
  return {
    tenantId: t.id,
    externalId: t.externalId,
    ownerClientId: t.ownerApplicationId,
    organizationName: t.organizationName,
    organizationNumber: t.organizationNumber,
    countryCode: t.countryCode,
  };
}

function grantsOf(snapshot: ConnectSnapshot, userId: string, companyOf: ReadonlyMap<string, string>): Grant[] {
  const grants: Grant[] = [];
  for (const [applicationId, tenants] of Object.entries(snapshot.roles[userId] ?? {})) {
    for (const t of tenants) {
      const companyKey = companyOf.get(t.tenantId);
      // Roles on tenants that are not linked to a company are not ours to judge.
      if (companyKey !== undefined && t.roles.length > 0) grants.push({ companyKey, applicationId, roles: [...t.roles] });
    }
  }
  return grants.sort((x, y) => (x.companyKey + x.applicationId < y.companyKey + y.applicationId ? -1 : 1));
}

/**
 * The pure join. "Gone from Connect" is "absent from the list": a linked tenant that is not among
 * ours is dropped (the planner finds or creates it again), a linked account that is not among the
 * accounts linked to us is unlinked.
 */
export function toObserved(
  mirror: Mirror,
  snapshot: ConnectSnapshot,
  desired: DesiredState,
  options: ObserveOptions & { readonly clientId: string },
): Observation {
  const full = options.mode === 'full';
  const byId = new Map((snapshot.tenants ?? []).map((t) => [t.id, t]));

  const tenants: ObservedTenant[] = !full
    ? [...mirror.tenants]
    : mirror.tenants.flatMap((m) => {
      const t = byId.get(m.tenantId);
      if (!t) return [];
      const apps: Record<string, AppStatus> = {};
      for (const a of snapshot.applications[m.tenantId] ?? []) if (!a.inherited) apps[a.applicationId] = a.suspendedDate === null ? 'active' : 'suspended';
      return [{ companyKey: m.companyKey, tenantId: t.id, name: t.organizationName, organizationNumber: t.organizationNumber, countryCode: t.countryCode, applications: apps }];
    });
  // On a full run, a company whose key one of our tenants carries is linked to it again (the
  // data folder may be new); its applications were read with the linked ones.
  const adoptedTenants: ObservedTenant[] = [];
  if (full) {
    for (const [companyKey, t] of anchoredTenants(snapshot.tenants ?? [], desired, new Set(tenants.map((x) => x.companyKey)), options.clientId)) {
      const apps: Record<string, AppStatus> = {};
      for (const a of snapshot.applications[t.id] ?? []) if (!a.inherited) apps[a.applicationId] = a.suspendedDate === null ? 'active' : 'suspended';
      adoptedTenants.push({ companyKey, tenantId: t.id, name: t.organizationName, organizationNumber: t.organizationNumber, countryCode: t.countryCode, applications: apps });
    }
    tenants.push(...adoptedTenants);
  }
  const companyOf = new Map(tenants.map((t) => [t.tenantId, t.companyKey]));

  const candidates: Record<string, { hard: TenantCandidate[]; soft: TenantCandidate[] }> = {};
  const linkedCompanies = new Set(tenants.map((t) => t.companyKey));
  const ours = (snapshot.tenants ?? []).filter((t) => t.ownerApplicationId === options.clientId);
  for (const d of desired.tenants) {
    if (linkedCompanies.has(d.companyKey)) continue;
    const hard = ours.filter((t) => t.externalId === d.companyKey).map(candidate);
    const soft = options.softMatch && hard.length === 0
      ? ours.filter((t) => t.countryCode === d.countryCode && t.organizationNumber === d.organizationNumber).map(candidate)
      : [];
    candidates[d.companyKey] = { hard, soft };
  }

  const linkedUsers = snapshot.linkedUsers === null ? null : new Map(snapshot.linkedUsers.map((u) => [u.id, u]));
  const anchorConflicts: AnchorConflict[] = [];
  // Accounts by id among those the anchor lookups returned, made once: a search of every anchor
  // for each account made a full run of 20k users quadratic (minutes of CPU).
  let anchoredById: Map<string, ConnectUser> | undefined;
  const flagsOf = (userId: string): ConnectUser | undefined => {
    if (snapshot.users[userId]) return snapshot.users[userId];
    anchoredById ??= new Map(Object.values(snapshot.anchors).flat().map((u) => [u.id, u]));
    return anchoredById.get(userId);
  };
  const flags = (u: ConnectUser | undefined) => ({
    twoStepEnforced: options.ownsTwoStep ? (u?.twoStepEnforced ?? null) : null,
    emailChangeAllowed: options.ownsEmailChangeAllowed ? (u?.emailChangeAllowed ?? null) : null,
  });
  const owned = options.ownsTwoStep || options.ownsEmailChangeAllowed;

  const accounts: ObservedAccount[] = mirror.accounts.map((a) => {
    const carriers = snapshot.anchors[a.userKey];
    if (carriers !== undefined) {
      const others = carriers.filter((c) => c.id !== a.userId).map((c) => c.id);
      if (others.length > 0) anchorConflicts.push({ userKey: a.userKey, linkedUserId: a.userId, others });
    }
    if (!full) return a;
    if (!a.linked) return a; // not ours to read: Connect hides accounts that are not linked to us
    const listed = linkedUsers?.get(a.userId);
    // Unlinked behind our back: gone from the accounts linked to us.
    if (!listed) return { ...a, linked: false, externalIdSet: false, grants: [], profile: null };
    return {
      userKey: a.userKey,
      userId: a.userId,
      linked: true,
      externalIdSet: carriers?.some((c) => c.id === a.userId) ?? a.externalIdSet,
      ...flags(owned ? flagsOf(a.userId) : undefined),
      grants: grantsOf(snapshot, a.userId, companyOf),
      profile: { email: listed.email, firstName: listed.firstName ?? '', lastName: listed.lastName ?? '' },
    };
  });

  // Users the mirror does not link: an account carrying their key is theirs, re-adopted.
  const adopted: ObservedAccount[] = [];
  const mirrored = new Map(mirror.accounts.map((a) => [a.userKey, a]));
  for (const [userKey, carriers] of Object.entries(snapshot.anchors)) {
    if (mirrored.get(userKey)?.linked) continue;
    if (carriers.length > 1) {
      anchorConflicts.push({ userKey, linkedUserId: null, others: carriers.map((c) => c.id) });
      continue;
    }
    const found = carriers[0];
    if (!found) continue;
    adopted.push({
      userKey,
      userId: found.id,
      linked: true,
      externalIdSet: true,
      ...flags(found),
      grants: grantsOf(snapshot, found.id, companyOf),
      profile: { email: found.email, firstName: found.firstName ?? '', lastName: found.lastName ?? '' },
    });
  }
  const adoptedKeys = new Set(adopted.map((a) => a.userKey));
  const all = [...accounts.filter((a) => !adoptedKeys.has(a.userKey)), ...adopted].sort((x, y) => (x.userKey < y.userKey ? -1 : x.userKey > y.userKey ? 1 : 0));
  return { observed: { tenants, accounts: all, candidates }, adopted, adoptedTenants, anchorConflicts };
}
