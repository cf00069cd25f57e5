/**
 * What Connect should look like for the objects ud-bridge manages (the output of project()), and
 * what it looks like now (observed: from Connect on a full run, from the local mirror on a delta
 * run). Both are keyed by VUD keys; Connect ids come from the links.
 */
import type { SourceIssue } from './snapshot.js';

export interface DesiredTenant {
  readonly companyKey: string;
  readonly name: string;
  readonly organizationNumber: string;
  readonly countryCode: string;
  /** Connect application ids, sorted. */
  readonly applications: readonly string[];
}

export interface Grant {
  readonly companyKey: string;
  readonly applicationId: string;
  /** Sorted, unique. */
  readonly roles: readonly string[];
}

/** A tenant and application whose state is left as Connect has it; an absent field matches any. */
export interface KeptScope {
  readonly companyKey?: string;
  readonly applicationId?: string;
}

/** Whether kept scope `k` covers the grant of `applicationId` at `companyKey`. */
export function covers(k: KeptScope, companyKey: string, applicationId: string): boolean {
  return (k.companyKey === undefined || k.companyKey === companyKey) && (k.applicationId === undefined || k.applicationId === applicationId);
}

export interface DesiredUser {
  readonly userKey: string;
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly countryCode?: string;
  readonly language?: string;
  /** Present only when the config says VUD owns the flag. */
  readonly twoStepEnforced?: boolean;
  readonly emailChangeAllowed?: boolean;
  /**
   * Why this user must not be linked by email (invalid address, shared with another active user).
   * Already-linked users are unaffected: they are linked by id.
   */
  readonly linkBlocked?: string;
  /**
   * Where a role, module or layout-group row of this user could not be used (unreadable, not in
   * the catalog, naming something VUD does not have): the grants there are left exactly as
   * Connect has them, never recomputed without that row. Usable grants are not repeated here.
   */
  readonly keepGrants?: readonly KeptScope[];
  /** Sorted by company then application. */
  readonly grants: readonly Grant[];
}

export interface DesiredState {
  readonly tenants: readonly DesiredTenant[];
  readonly users: readonly DesiredUser[];
  /** Why a known key is not wanted in Connect (deactivated, out of scope, no access), for op reasons. */
  readonly excludedCompanies: Readonly<Record<string, string>>;
  readonly excludedUsers: Readonly<Record<string, string>>;
  /**
   * What the source could not read, so the planner takes no "no" from it. Absent from the
   * snapshot is not removed from VUD: what Connect has for these is left as it is.
   */
  readonly unreadable?: {
    /** Companies and users whose row was skipped (or, for users, whose access could not be used anywhere). */
    readonly companies: readonly string[];
    readonly users: readonly string[];
    /** A company (user) row's key could not be read: no company (user) absent from the source counts as gone. */
    readonly anyCompany: boolean;
    readonly anyUser: boolean;
    /** Applications an unreadable row may still enable on a tenant: none is suspended or deleted this run. */
    readonly applications: readonly KeptScope[];
  };
  readonly issues: readonly SourceIssue[];
}

export type AppStatus = 'active' | 'suspended';

export interface ObservedTenant {
  readonly companyKey: string;
  readonly tenantId: string;
  readonly name: string;
  readonly organizationNumber: string;
  readonly countryCode: string;
  /** Applications directly on the tenant (inherited ones are not ours to change). */
  readonly applications: Readonly<Record<string, AppStatus>>;
}

export interface ObservedAccount {
  readonly userKey: string;
  readonly userId: string;
  /** Linked to ud-bridge's application. An unlinked account keeps its id so a later link checks it. */
  readonly linked: boolean;
  readonly externalIdSet: boolean;
  readonly twoStepEnforced: boolean | null;
  readonly emailChangeAllowed: boolean | null;
  readonly grants: readonly Grant[];
  /** Connect's profile, known on full runs only; differences are drift, never pushed. */
  readonly profile: { readonly email: string; readonly firstName: string; readonly lastName: string } | null;
}

/** A Connect tenant that might be the one for a company that has no link yet. */
export interface TenantCandidate {
  readonly tenantId: string;
  readonly externalId: string | null;
  readonly ownerClientId: string;
  readonly organizationName: string;
  readonly organizationNumber: string;
  readonly countryCode: string;
}

export interface ObservedState {
  readonly tenants: readonly ObservedTenant[];
  readonly accounts: readonly ObservedAccount[];
  /** For each unlinked company: tenants found by external id (hard) and by country + org number (soft). */
  readonly candidates: Readonly<Record<string, { readonly hard: readonly TenantCandidate[]; readonly soft: readonly TenantCandidate[] }>>;
}
