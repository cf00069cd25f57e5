/**
 * ConnectApi: the port through which everything outside src/connect talks to Visma Connect.
 * One method per operation of ../shared/connect-api.md, each taking one object. The types here
 * are ud-bridge's own (camelCase); the wire shapes, the [ours] paths and the snake_case fields
 * stay inside src/connect, so a correction to the real API is one edit there.
 *
 * Failures are thrown as ConnectError subclasses (src/connect/errors.ts), each with the API's
 * `errorCode`, the HTTP `status` and `retryable`.
 */
export interface Tenant {
  readonly id: string;
  readonly organizationName: string;
  readonly organizationNumber: string;
  readonly countryCode: string;
  readonly externalId: string | null;
  readonly businessUnitName: string | null;
  readonly parentTenantId: string | null;
  readonly ownerClientId: string;
  readonly createdDate: string;
  readonly updatedDate: string;
}

export interface NewTenant {
  readonly organizationName: string;
  readonly organizationNumber: string;
  readonly countryCode: string;
  readonly externalId: string;
  readonly businessUnitName?: string;
  readonly parentTenantId?: string;
  readonly address1?: string;
  readonly postalCode?: string;
  readonly city?: string;
}

export type TenantPatch = Partial<Omit<NewTenant, 'parentTenantId'>>;

export interface TenantSearch {
  readonly externalId?: string;
  readonly organizationName?: string;
  readonly organizationNumber?: string;
  readonly countryCode?: string;
  readonly domainName?: string;
  /** Required by the API when two or more attributes are given. */
  readonly operator?: 'AND' | 'OR';
}

export type ApplicationStatus = 'active' | 'suspended';

export interface TenantApplication {
  readonly applicationId: string;
  readonly status: ApplicationStatus;
  readonly isInherited: boolean;
  readonly inheritedFrom: string | null;
}

export interface HierarchyApplication {
  readonly tenantId: string;
  readonly applicationId: string;
  readonly status: ApplicationStatus;
}

export interface ConnectUser {
  readonly id: string;
  readonly email: string;
  readonly emailVerified: boolean;
  readonly firstName: string;
  readonly lastName: string;
  readonly countryCode: string | null;
  readonly preferredLanguage: string | null;
  readonly emailChangeAllowed: boolean;
  readonly twoStepEnforced: boolean;
  readonly createdDate: string;
  readonly updatedDate: string;
}

export interface NewUser {
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly countryCode?: string;
  readonly preferredLanguage?: string;
  readonly unverifiedPhoneNumber?: string;
  readonly twoStepEnforced?: boolean;
}

/**
 * The answer to Add user. `created`: a new account (201). `linked`: an account with that email
 * existed and is now linked to the caller (200). `alreadyLinked`: it was linked to the caller
 * already (409 ERROR_USER_LINKED_TO_CLIENT) — the account id is still returned, and the caller
 * must check who it belongs to before trusting it (the email rule).
 */
export interface AddUserResult {
  readonly outcome: 'created' | 'linked' | 'alreadyLinked';
  readonly userId: string;
  readonly user: ConnectUser | null;
}

export interface UserSearch {
  readonly email?: string;
  readonly firstName?: string;
  readonly lastName?: string;
  readonly operator?: 'AND' | 'OR';
}

export interface UserApplication {
  readonly applicationId: string;
  readonly externalId: string | null;
}

export interface Country {
  readonly code: string;
  readonly name: string;
}

export interface TenantRef { readonly tenantId: string }
export interface TenantAppRef { readonly tenantId: string; readonly applicationId: string }
export interface UserRef { readonly userId: string }
export interface UserAppRef { readonly userId: string; readonly applicationId: string }
export interface TenantAppUserRef { readonly tenantId: string; readonly applicationId: string; readonly userId: string }

export interface ConnectApi {
  /** The client id ud-bridge calls as; accounts are linked to it and tenants it adds are owned by it. */
  readonly clientId: string;

  searchTenants(query: TenantSearch): AsyncIterable<Tenant>;
  getTenant(ref: TenantRef): Promise<Tenant>;
  addTenant(input: NewTenant): Promise<Tenant>;
  updateTenant(input: TenantRef & { readonly patch: TenantPatch }): Promise<Tenant>;

  addTenantApplication(ref: TenantAppRef): Promise<void>;
  deleteTenantApplication(ref: TenantAppRef): Promise<void>;
  suspendTenantApplication(ref: TenantAppRef): Promise<void>;
  resumeTenantApplication(ref: TenantAppRef): Promise<void>;
  listTenantApplications(ref: TenantRef & { readonly includeInherited: boolean }): Promise<TenantApplication[]>;
  listHierarchyApplications(ref: TenantRef): Promise<HierarchyApplication[]>;

  addUser(input: NewUser): Promise<AddUserResult>;
  getUser(ref: UserRef): Promise<ConnectUser>;
  searchUsers(query: UserSearch): AsyncIterable<ConnectUser>;
  listUserApplications(ref: UserRef): Promise<UserApplication[]>;
  unlinkUserApplication(ref: UserAppRef): Promise<void>;
  setUserExternalId(ref: UserAppRef & { readonly externalId: string }): Promise<void>;

  getUserRoles(ref: UserAppRef): Promise<string[]>;
  getUserTenantRoles(ref: TenantAppUserRef): Promise<string[]>;
  setUserTenantRoles(ref: TenantAppUserRef & { readonly roles: readonly string[] }): Promise<void>;

  setEmailChangeAllowed(ref: UserRef & { readonly allowed: boolean }): Promise<void>;
  setTwoStepEnforced(ref: UserRef & { readonly enforced: boolean }): Promise<void>;

  listCountries(): Promise<Country[]>;
}
