/**
 * The mirror of Connect as one compact text: what `StateStore.observed()` returns, kept beside the
 * mirror's tables so a run reads one row instead of a scan of every grant (at 100k users the scan
 * of 434k grant rows and 98k accounts took 1.1 s of every delta run, 1.8 s under the profiler;
 * this image decodes in 0.25 s).
 *
 * The tables stay the truth. The image is a cache the store drops inside the same transaction as
 * any write to them (triggers, so no code path can forget), and rebuilds from them when it is
 * missing. Company keys, application ids and role sets, which repeat across rows, are written once
 * and referred to by position.
 *
 * Pure: encode and decode, no database.
 */
import type { AppStatus, Grant, ObservedAccount, ObservedTenant } from '../domain/desired.js';

/** Bump when the shape below changes: an image of another version is ignored (and rebuilt). */
export const MIRROR_IMAGE_VERSION = 1;

export interface Mirror {
  readonly tenants: ObservedTenant[];
  readonly accounts: ObservedAccount[];
}

/** null / false / true as 0 / 1 / 2, so a row is numbers only past its two ids. */
const TRI = [null, false, true] as const;
const tri = (v: boolean | null) => (v === null ? 0 : v ? 2 : 1);

type Image = {
  v: number;
  /** Company keys and application ids. */
  s: string[];
  /** Role sets, each a sorted list. */
  r: string[][];
  /** [companyKey#, tenantId, name, organizationNumber, countryCode, [app#, status, ...]] */
  t: [number, string, string, string, string, (number | string)[]][];
  /** [userKey, userId, linked, externalIdSet, twoStep, emailChange, [company#, app#, roles#, ...]] */
  a: [string, string, number, number, number, number, number[]][];
};

export function encodeMirror(mirror: Mirror): string {
  const strings: string[] = [];
  const stringIndex = new Map<string, number>();
  const str = (s: string) => {
    let i = stringIndex.get(s);
    if (i === undefined) stringIndex.set(s, (i = strings.push(s) - 1));
    return i;
  };
  const roleSets: (readonly string[])[] = [];
  // Role lists read from the mirror are shared per distinct set, so identity finds most repeats.
  const byList = new Map<readonly string[], number>();
  const byKey = new Map<string, number>();
  const roleSet = (roles: readonly string[]) => {
    let i = byList.get(roles);
    if (i !== undefined) return i;
    const key = roles.join('\u0000');
    i = byKey.get(key);
    if (i === undefined) byKey.set(key, (i = roleSets.push(roles) - 1));
    byList.set(roles, i);
    return i;
  };
  const image: Image = {
    v: MIRROR_IMAGE_VERSION,
    s: strings,
    r: roleSets as string[][],
    t: mirror.tenants.map((t) => [str(t.companyKey), t.tenantId, t.name, t.organizationNumber, t.countryCode, Object.entries(t.applications).flatMap(([app, status]) => [str(app), status])]),
    a: mirror.accounts.map((a) => {
      const grants: number[] = [];
      for (const g of a.grants) grants.push(str(g.companyKey), str(g.applicationId), roleSet(g.roles));
      return [a.userKey, a.userId, a.linked ? 1 : 0, a.externalIdSet ? 1 : 0, tri(a.twoStepEnforced), tri(a.emailChangeAllowed), grants];
    }),
  };
  return JSON.stringify(image);
}

/** The mirror an image holds, or null for an image of another version or shape (then rebuild it). */
export function decodeMirror(text: string): Mirror | null {
  let image: Image;
  try {
    image = JSON.parse(text) as Image;
  } catch {
    return null;
  }
  if (image === null || typeof image !== 'object' || image.v !== MIRROR_IMAGE_VERSION || !Array.isArray(image.s) || !Array.isArray(image.r) || !Array.isArray(image.t) || !Array.isArray(image.a)) return null;
  const s = image.s;
  const roleSets = image.r.map((roles) => Object.freeze(roles));
  const tenants: ObservedTenant[] = image.t.map(([c, tenantId, name, organizationNumber, countryCode, apps]) => {
    const applications: Record<string, AppStatus> = {};
    for (let i = 0; i < apps.length; i += 2) applications[s[apps[i] as number]!] = apps[i + 1] as AppStatus;
    return { companyKey: s[c]!, tenantId, name, organizationNumber, countryCode, applications };
  });
  const accounts: ObservedAccount[] = image.a.map(([userKey, userId, linked, externalIdSet, twoStep, emailChange, g]) => {
    const grants: Grant[] = new Array<Grant>(g.length / 3);
    for (let i = 0, j = 0; i < g.length; i += 3, j++) grants[j] = { companyKey: s[g[i]!]!, applicationId: s[g[i + 1]!]!, roles: roleSets[g[i + 2]!]! };
    return { userKey, userId, linked: linked === 1, externalIdSet: externalIdSet === 1, twoStepEnforced: TRI[twoStep] ?? null, emailChangeAllowed: TRI[emailChange] ?? null, grants, profile: null };
  });
  return { tenants, accounts };
}
