/**
 * The inverse of the reader: a DirectorySnapshot as a `ud-bridge.snapshot/v1` document, so that
 * generated or exported data can be fed back through the snapshot source. Key order is fixed so
 * the same snapshot always serialises to the same bytes.
 */
import type { DirectorySnapshot } from '../../domain/snapshot.js';
import { SNAPSHOT_FORMAT, type SnapshotFile, type SnapshotFileUser } from './format.js';

export function toSnapshotFile(snapshot: DirectorySnapshot): SnapshotFile {
  const programsOf = new Map<string, string[]>();
  for (const cp of snapshot.companyPrograms) {
    const list = programsOf.get(cp.companyKey) ?? [];
    list.push(cp.programKey);
    programsOf.set(cp.companyKey, list);
  }
  const rolesOf = new Map<string, SnapshotFileUser['roles'][number][]>();
  for (const r of snapshot.roleAssignments) {
    const list = rolesOf.get(r.userKey) ?? [];
    list.push(
      r.scope.kind === 'company'
        ? { program: r.programKey, role: r.role, company: r.scope.companyKey }
        : { program: r.programKey, role: r.role, group: r.scope.groupKey },
    );
    rolesOf.set(r.userKey, list);
  }
  const entitlementsOf = new Map<string, { modules: { program: string; name: string }[]; layoutGroups: { program: string; name: string }[] }>();
  for (const e of snapshot.entitlements) {
    const entry = entitlementsOf.get(e.userKey) ?? { modules: [], layoutGroups: [] };
    (e.kind === 'module' ? entry.modules : entry.layoutGroups).push({ program: e.programKey, name: e.name });
    entitlementsOf.set(e.userKey, entry);
  }

  return {
    format: SNAPSHOT_FORMAT,
    companies: snapshot.companies.map((c) => ({
      key: c.key,
      name: c.name,
      organizationNumber: c.organizationNumber,
      countryCode: c.countryCode,
      active: c.active,
      programs: programsOf.get(c.key) ?? [],
    })),
    companyGroups: snapshot.groups.map((g) => ({ key: g.key, name: g.name, companies: [...g.companyKeys] })),
    programs: snapshot.programs.map((p) => ({ key: p.key, name: p.name })),
    users: snapshot.users.map((u) => ({
      key: u.key,
      userName: u.userName,
      email: u.email,
      firstName: u.firstName,
      lastName: u.lastName,
      ...(u.language === undefined ? {} : { language: u.language }),
      ...(u.countryCode === undefined ? {} : { countryCode: u.countryCode }),
      active: u.active,
      ...(u.twoStepEnforced === undefined ? {} : { twoStepEnforced: u.twoStepEnforced }),
      ...(u.emailChangeAllowed === undefined ? {} : { emailChangeAllowed: u.emailChangeAllowed }),
      roles: rolesOf.get(u.key) ?? [],
      modules: entitlementsOf.get(u.key)?.modules ?? [],
      layoutGroups: entitlementsOf.get(u.key)?.layoutGroups ?? [],
    })),
  };
}

/** The document as file text: two-space indented, ending in a newline. */
export function formatSnapshotFile(snapshot: DirectorySnapshot): string {
  return `${JSON.stringify(toSnapshotFile(snapshot), null, 2)}\n`;
}
