/**
 * A deterministic synthetic directory for load tests, benchmarks and demos: believable Nordic
 * names, valid Norwegian organisation numbers, unique emails, roles only from the programs'
 * catalogs and only where the program is enabled. Same options → the same snapshot, byte for
 * byte once serialised (toSnapshotFile).
 */
import { UdBridgeError } from '../../errors.js';
import type {
  Company,
  CompanyGroup,
  CompanyProgram,
  DirectorySnapshot,
  RoleAssignment,
  User,
  UserEntitlement,
} from '../../domain/snapshot.js';
import { PROGRAM_CATALOGS } from './catalog.js';
import { norwegianOrgNumberFrom } from './org-number.js';
import { createRandom, type Random } from './random.js';

export interface GenerateOptions {
  readonly seed: number;
  readonly users: number;
  readonly companies: number;
  /** How many of the catalog programs (VB, VDC, VR) exist, 1–3. VB is enabled everywhere. */
  readonly programs: number;
  readonly rolesPerUser: number;
  /** Companies per company group; consecutive companies form a group. 0 = no groups. Default 5. */
  readonly groupSize?: number;
}

export const GENERATE_LIMITS = {
  seed: { min: 0, max: 0xffff_ffff },
  users: { min: 0, max: 1_000_000 },
  companies: { min: 1, max: 100_000 },
  programs: { min: 1, max: PROGRAM_CATALOGS.length },
  rolesPerUser: { min: 0, max: 50 },
  groupSize: { min: 0, max: 1_000 },
} as const;

const FIRST = ['Kari', 'Ola', 'Ingrid', 'Lars', 'Sigrid', 'Erik', 'Marte', 'Anders', 'Silje', 'Bjørn', 'Astrid', 'Magnus', 'Hanne', 'Per', 'Anna', 'Johan', 'Elin', 'Tove', 'Knut', 'Nina', 'Håkon', 'Ida', 'Thomas', 'Camilla', 'Øystein', 'Solveig', 'Henrik', 'Maja', 'Sven', 'Karin', 'Åsa', 'Nils'];
const LAST = ['Nordmann', 'Hansen', 'Johansen', 'Olsen', 'Larsen', 'Andersen', 'Pedersen', 'Nilsen', 'Kristiansen', 'Jensen', 'Karlsen', 'Berg', 'Haugen', 'Eriksson', 'Lindqvist', 'Svensson', 'Bergström', 'Hagen', 'Dahl', 'Solberg', 'Strand', 'Lie', 'Moe', 'Berge', 'Bakken', 'Sæther', 'Løken', 'Åberg', 'Lund', 'Holm'];
const PLACE = ['Fjord', 'Nordlys', 'Vik', 'Fjell', 'Skog', 'Havbris', 'Midnatt', 'Bre', 'Elv', 'Tind', 'Kyst', 'Lofot', 'Varde', 'Polar', 'Sol'];
const TRADE = ['tech', 'bygg', 'regnskap', 'handel', 'data', 'energi', 'transport', 'fisk', 'eiendom', 'media'];
const LANGUAGES = ['nb', 'nb', 'nb', 'nn', 'en'];

function check(options: GenerateOptions): void {
  for (const [name, limit] of Object.entries(GENERATE_LIMITS)) {
    const value = (options as unknown as Record<string, unknown>)[name] ?? (name === 'groupSize' ? 5 : undefined);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < limit.min || value > limit.max) {
      throw new UdBridgeError('GENERATE_OPTIONS', `generate option ${name} must be an integer from ${limit.min} to ${limit.max}; got ${String(value)}`, {
        details: { option: name, value },
      });
    }
  }
}

/** Lower-case ASCII for emails and user names: å→a, ø→o, æ→ae, ö→o, ä→a. */
function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/æ/g, 'ae')
    .replace(/ø/g, 'o')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '');
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function orgNumber(random: Random, taken: Set<string>): string {
  for (;;) {
    const candidate = norwegianOrgNumberFrom(`${random.pick(['8', '9'])}${pad(random.int(0, 9_999_999), 7)}`);
    if (candidate !== undefined && !taken.has(candidate)) {
      taken.add(candidate);
      return candidate;
    }
  }
}

/** A user name or email local part, made unique by a number when the plain one is taken. */
function unique(base: string, counts: Map<string, number>): string {
  const n = (counts.get(base) ?? 0) + 1;
  counts.set(base, n);
  return n === 1 ? base : `${base}${n}`;
}

export function generateSnapshot(options: GenerateOptions): DirectorySnapshot {
  check(options);
  const random = createRandom(options.seed);
  const groupSize = options.groupSize ?? 5;
  const catalogs = PROGRAM_CATALOGS.slice(0, options.programs);
  const width = String(Math.max(options.companies, options.users)).length;

  const companies: (Company & { domain: string })[] = [];
  const companyPrograms: CompanyProgram[] = [];
  const enabled = new Map<string, string[]>();
  const orgNumbers = new Set<string>();
  for (let i = 1; i <= options.companies; i++) {
    const place = random.pick(PLACE);
    const trade = random.pick(TRADE);
    const key = `C${pad(i, width)}`;
    companies.push({
      key,
      name: `${place}${trade} ${i} AS`,
      organizationNumber: orgNumber(random, orgNumbers),
      countryCode: 'NO',
      active: true,
      domain: `${slug(place + trade)}${i}.no`,
    });
    // Visma Business everywhere (group roles rely on it); the other programs at about half.
    const programs = catalogs.filter((c, index) => index === 0 || random.chance(0.5)).map((c) => c.key);
    enabled.set(key, programs);
    for (const programKey of programs) companyPrograms.push({ companyKey: key, programKey });
  }

  const groups: CompanyGroup[] = [];
  if (groupSize > 0) {
    for (let start = 0; start + groupSize <= companies.length; start += groupSize) {
      const members = companies.slice(start, start + groupSize);
      groups.push({ key: `G${pad(groups.length + 1, width)}`, name: `${members[0]!.name.replace(/ AS$/, '')} Konsern`, companyKeys: members.map((c) => c.key) });
    }
  }

  const users: User[] = [];
  const roleAssignments: RoleAssignment[] = [];
  const entitlements: UserEntitlement[] = [];
  const userNames = new Map<string, number>();
  const emails = new Map<string, number>();
  for (let i = 1; i <= options.users; i++) {
    const key = `U${pad(i, width)}`;
    const firstName = random.pick(FIRST);
    const lastName = random.pick(LAST);
    const home = random.pick(companies);
    const local = unique(`${slug(firstName)}.${slug(lastName)}`, emails);
    users.push({
      key,
      userName: unique(`${slug(firstName)}${slug(lastName).slice(0, 3)}`, userNames),
      email: `${local}@${home.domain}`,
      firstName,
      lastName,
      language: random.pick(LANGUAGES),
      countryCode: 'NO',
      active: !random.chance(0.02),
      twoStepEnforced: random.chance(0.05),
      emailChangeAllowed: random.chance(0.9),
    });

    const seen = new Set<string>();
    const programsUsed = new Set<string>();
    // A bounded number of attempts: small directories may have fewer distinct roles than asked for.
    for (let attempt = 0; seen.size < options.rolesPerUser && attempt < options.rolesPerUser * 4; attempt++) {
      const atGroup = groups.length > 0 && random.chance(0.15);
      let assignment: RoleAssignment;
      if (atGroup) {
        const group = random.pick(groups);
        const catalog = catalogs[0]!;
        assignment = { userKey: key, programKey: catalog.key, role: random.pick(catalog.roles), scope: { kind: 'group', groupKey: group.key } };
      } else {
        const company = random.chance(0.7) ? home : random.pick(companies);
        const programKey = random.pick(enabled.get(company.key)!);
        const catalog = catalogs.find((c) => c.key === programKey)!;
        assignment = { userKey: key, programKey, role: random.pick(catalog.roles), scope: { kind: 'company', companyKey: company.key } };
      }
      const scopeKey = assignment.scope.kind === 'company' ? `c:${assignment.scope.companyKey}` : `g:${assignment.scope.groupKey}`;
      const identity = `${assignment.programKey}/${assignment.role}/${scopeKey}`;
      if (seen.has(identity)) continue;
      seen.add(identity);
      programsUsed.add(assignment.programKey);
      roleAssignments.push(assignment);
    }

    // Modules before layout groups, as the file format lists them, so a round trip keeps the order.
    const layouts: UserEntitlement[] = [];
    for (const catalog of catalogs.filter((c) => programsUsed.has(c.key))) {
      const modules = new Set<string>();
      for (let n = random.int(0, 2); n > 0; n--) modules.add(random.pick(catalog.modules));
      for (const name of modules) entitlements.push({ userKey: key, programKey: catalog.key, kind: 'module', name });
      if (random.chance(0.5)) layouts.push({ userKey: key, programKey: catalog.key, kind: 'layout', name: random.pick(catalog.layoutGroups) });
    }
    entitlements.push(...layouts);
  }

  return {
    source: `synthetic:seed=${options.seed},users=${options.users},companies=${options.companies},programs=${options.programs},rolesPerUser=${options.rolesPerUser},groupSize=${groupSize}`,
    companies: companies.map(({ domain: _domain, ...c }) => c),
    groups,
    programs: catalogs.map((c) => ({ key: c.key, name: c.name })),
    companyPrograms,
    users,
    roleAssignments,
    entitlements,
    issues: [],
    unreadable: [],
  };
}
