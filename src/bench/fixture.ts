/**
 * What a bench stage runs against: a deterministic directory (the synthetic generator, written as
 * a snapshot file so the stage pays for reading it like a customer's source), a config pointing at
 * it and at a simulator, and, where a stage needs "Connect already matches", a local state whose
 * mirror says so. Everything lives under one folder per stage.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ObservedAccount, ObservedTenant } from '../domain/desired.js';
import type { DirectorySnapshot } from '../domain/snapshot.js';
import { project, type Mapping } from '../plan/project.js';
import { formatSnapshotFile } from '../source/snapshot/to-file.js';
import { PROGRAM_CATALOGS } from '../source/synthetic/catalog.js';
import { generateSnapshot, type GenerateOptions } from '../source/synthetic/generate.js';
import { StateStore } from '../state/store.js';

/** The customer shape of the issue: 50 users per company, 3 roles each, all three programs. */
export function directoryOptions(users: number): GenerateOptions {
  return { seed: 11, users, companies: Math.max(1, Math.round(users / 50)), programs: 3, rolesPerUser: 3 };
}

/** The program map of the default config, with every catalog role, module and layout group. */
export const BENCH_PROGRAMS: Mapping['programs'] = Object.fromEntries(
  PROGRAM_CATALOGS.map((c) => [c.key, { applicationId: c.applicationId, roles: [...c.roles, ...c.modules.map((m) => `module:${m}`), ...c.layoutGroups.map((l) => `layout:${l}`)] }]),
);

export const BENCH_MAPPING: Mapping = {
  programs: BENCH_PROGRAMS,
  roleNames: { module: 'module:{name}', layout: 'layout:{name}' },
  // A scope like the default config's, so its cost is paid.
  scope: { companies: { include: [], exclude: ['C9999999'] }, users: { include: [], exclude: ['svc-*'] } },
  ownsTwoStep: false,
  ownsEmailChangeAllowed: false,
};

export interface Fixture {
  readonly dir: string;
  readonly configPath: string;
  readonly snapshotPath: string;
  readonly dataDir: string;
}

export interface FixtureOptions {
  readonly dir: string;
  readonly snapshot: DirectorySnapshot;
  /** The simulator's base URL (http://127.0.0.1:port). */
  readonly connectUrl: string;
  readonly concurrency?: number;
  /** Extra top-level config keys, as YAML text (e.g. `connect.adaptive: false`). */
  readonly connectExtra?: string;
}

export function writeFixture(options: FixtureOptions): Fixture {
  const { dir } = options;
  mkdirSync(dir, { recursive: true });
  const snapshotPath = join(dir, 'directory.json');
  writeFileSync(snapshotPath, formatSnapshotFile(options.snapshot));
  const configPath = join(dir, 'ud-bridge.yaml');
  writeFileSync(configPath, configText(options));
  return { dir, configPath, snapshotPath, dataDir: join(dir, 'data') };
}

function configText(o: FixtureOptions): string {
  const programs = Object.entries(BENCH_PROGRAMS)
    .map(([key, p]) => `  ${key}:\n    applicationId: ${p.applicationId}\n    roles: ${JSON.stringify(p.roles)}`)
    .join('\n');
  const concurrency = o.concurrency === undefined ? '' : `  concurrency: ${o.concurrency}\n`;
  return `# Written by the bench (src/bench/fixture.ts).
source:
  type: snapshot
  path: directory.json
connect:
  mode: remote
  apiBaseUrl: ${o.connectUrl}
  tokenUrl: ${o.connectUrl}/connect/token
  clientId: ud-bridge
  clientSecret: local-dev-secret
  parentTenantExternalId: customer
  businessUnitName: Visma Norway
${concurrency}${o.connectExtra ?? ''}programs:
${programs}
userDefaults:
  countryCode: "NO"
  preferredLanguage: nb
scope:
  companies:
    exclude: ${JSON.stringify(BENCH_MAPPING.scope.companies.exclude)}
  users:
    exclude: ${JSON.stringify(BENCH_MAPPING.scope.users.exclude)}
${o.concurrency === undefined ? '' : `apply:\n  concurrency: ${o.concurrency}\n`}policy:
  anomaly:
    maxDropPercent: 100
  destructive:
    revoke: { maxCount: 1000000, maxPercent: 100 }
    unlink: { maxCount: 1000000, maxPercent: 100 }
paths:
  data: data
  logs: logs
  journal: logs/journal
logging:
  dir: logs
  console: "off"
`;
}

/**
 * A local state that says Connect already holds exactly what the directory wants (every tenant
 * with its applications and, with `accounts`, every user linked with its grants) and that a full
 * run has completed, so a delta run trusts it. Without accounts a delta run plans a first sync of
 * every user. Connect ids are made up: a dry run never sends them.
 */
export function seedState(fixture: Fixture, snapshot: DirectorySnapshot, options: { readonly accounts: boolean }): void {
  const desired = project(snapshot, BENCH_MAPPING);
  const tenants: ObservedTenant[] = desired.tenants.map((t, i) => ({
    companyKey: t.companyKey,
    tenantId: fakeUuid(1, i),
    name: t.name,
    organizationNumber: t.organizationNumber,
    countryCode: t.countryCode,
    applications: Object.fromEntries(t.applications.map((a) => [a, 'active' as const])),
  }));
  const accounts: ObservedAccount[] = (options.accounts ? desired.users : []).map((u, i) => ({
    userKey: u.userKey,
    userId: fakeUuid(2, i),
    linked: true,
    externalIdSet: true,
    twoStepEnforced: null,
    emailChangeAllowed: null,
    grants: u.grants,
    profile: null,
  }));
  const store = StateStore.open(fixture.dataDir);
  try {
    store.replaceMirror({ tenants, accounts });
    const at = new Date().toISOString();
    store.recordRun({
      runId: 'bench-seed',
      mode: 'full',
      trigger: 'manual',
      dryRun: false,
      status: 'succeeded',
      startedAt: at,
      finishedAt: at,
      durationMs: 0,
      counts: {},
      sourceCounts: { companies: snapshot.companies.length, users: snapshot.users.length, roleAssignments: snapshot.roleAssignments.length },
    });
    // As the end of a run leaves it: the mirror's image written for the next run's read.
    store.refreshMirrorImage();
  } finally {
    store.close();
  }
}

function fakeUuid(kind: number, i: number): string {
  const n = (i + 1).toString(16).padStart(12, '0');
  return `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${n}`;
}

export function generateDirectory(users: number): DirectorySnapshot {
  return generateSnapshot(directoryOptions(users));
}
