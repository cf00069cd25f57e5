/**
 * The on-premise directory as ud-bridge reads it: one immutable snapshot per run, whatever the
 * source (SQL Server views, a JSON file, the synthetic generator). Keys are VUD's own keys, as
 * strings. Rows that failed validation are not here; they are in `issues`.
 */
export interface Company {
  readonly key: string;
  readonly name: string;
  /** As VUD stores it; for Norway nine digits with a mod-11 check digit. */
  readonly organizationNumber: string;
  /** ISO 3166-1 alpha-2, upper case. */
  readonly countryCode: string;
  readonly active: boolean;
}

export interface CompanyGroup {
  readonly key: string;
  readonly name: string;
  readonly companyKeys: readonly string[];
}

export interface Program {
  readonly key: string;
  readonly name: string;
}

/** A program enabled for a company. */
export interface CompanyProgram {
  readonly companyKey: string;
  readonly programKey: string;
}

export interface User {
  readonly key: string;
  readonly userName: string;
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  /** BCP 47 / ISO 639-1, e.g. `nb`, `sv`, `en`. */
  readonly language?: string;
  readonly countryCode?: string;
  readonly active: boolean;
  /** Only used when the config says VUD owns the flag. */
  readonly twoStepEnforced?: boolean;
  readonly emailChangeAllowed?: boolean;
}

export type RoleScope =
  | { readonly kind: 'company'; readonly companyKey: string }
  | { readonly kind: 'group'; readonly groupKey: string };

export interface RoleAssignment {
  readonly userKey: string;
  readonly programKey: string;
  readonly role: string;
  readonly scope: RoleScope;
}

/** A module or a layout group a user has in a program; becomes a role through the config's name map. */
export interface UserEntitlement {
  readonly userKey: string;
  readonly programKey: string;
  readonly kind: 'module' | 'layout';
  readonly name: string;
}

/** A row the source could not accept: named by entity, key and field, and skipped. */
export interface SourceIssue {
  readonly entity: string;
  readonly key: string;
  readonly field: string;
  readonly message: string;
  /** What was left out because of it; a source's bad row is the whole row. */
  readonly skipped?: 'row' | 'role' | 'module' | 'layout group' | 'link' | 'nothing';
}

/**
 * What a row the source skipped might have said, as far as it could be read; a field that could
 * not be read is absent and may be anything. The planner keeps whatever such a row could be about:
 * only a valid row that says "no" removes anything (design.md, Safety).
 */
export type UnreadableRow =
  /** A company, user, program or company-group row; no `key` when the key itself could not be read. */
  | { readonly entity: 'company' | 'user' | 'program' | 'companyGroup'; readonly key?: string }
  /** "Company X has program P". */
  | { readonly entity: 'companyProgram'; readonly companyKey?: string; readonly programKey?: string }
  /** "Group G has company X": the group's member list is incomplete. */
  | { readonly entity: 'groupMember'; readonly groupKey?: string }
  /** A role, module or layout-group row: whose, in which program, where (no scope: anywhere). */
  | { readonly entity: 'access'; readonly userKey?: string; readonly programKey?: string; readonly scope?: RoleScope };

export interface DirectorySnapshot {
  /** Which source produced it, e.g. `snapshot:config/sample-directory.json` or `sqlserver:vud`. */
  readonly source: string;
  readonly companies: readonly Company[];
  readonly groups: readonly CompanyGroup[];
  readonly programs: readonly Program[];
  readonly companyPrograms: readonly CompanyProgram[];
  readonly users: readonly User[];
  readonly roleAssignments: readonly RoleAssignment[];
  readonly entitlements: readonly UserEntitlement[];
  readonly issues: readonly SourceIssue[];
  /** One entry per skipped row (beside its issue): what the planner must not take as a "no". */
  readonly unreadable: readonly UnreadableRow[];
}

/** The one port every directory source implements. */
export interface DirectorySource {
  readonly name: string;
  read(): Promise<DirectorySnapshot>;
}

/** A link ud-bridge established, written back to the directory (SQL Server's ConnectLinks). */
export interface LinkRecord {
  readonly entity: 'company' | 'user';
  readonly key: string;
  /** The Connect tenant id (company) or user id (user). */
  readonly connectId: string;
}

/**
 * A Connect profile (Connect owns email and names), written back by Connect user id. A field left
 * out is one the policy does not take from Connect (`policy.profileFields`): it is not written.
 */
export interface ProfileRecord {
  readonly connectUserId: string;
  readonly email?: string;
  readonly firstName?: string;
  readonly lastName?: string;
}

/** `unchanged`: the directory already held exactly these values; `disabled`: this source does not write profiles. */
export type ProfileWriteOutcome = 'updated' | 'unchanged' | 'disabled';

/** Where links and profiles go back to. The JSON snapshot source has nowhere to write and says so. */
export interface DirectoryWriteback {
  writeLinks(links: readonly LinkRecord[]): Promise<void>;
  writeProfile(profile: ProfileRecord): Promise<ProfileWriteOutcome>;
}
