/**
 * ConnectApi: the port through which everything outside src/connect talks to Visma Connect.
 * One method per operation of the contract (src/connect/contract/connect-openapi.yaml), each
 * taking one object. The types here are ud-bridge's own (camelCase); the wire stays snake_case
 * behind it, in the generated wire types and the mappers of src/connect/wire-map.ts.
 *
 * Failures are thrown as ConnectError subclasses (src/connect/errors.ts), each with the API's
 * `errorCode`, the HTTP status and `retryable`. An answer the contract marks "already so"
 * (x-udb-already-so: already added, already suspended, already unlinked…) is not an error: the
 * write methods return `unchanged` for it and `changed` otherwise.
 */
export type WriteResult = 'changed' | 'unchanged';

export interface Tenant {
  readonly id: string;
  readonly organizationName: string;
  readonly organizationNumber: string;
  readonly countryCode: string;
  readonly externalId: string | null;
  readonly businessUnitName: string | null;
  readonly parentId: string | null;
  /** The owner: the application that added the tenant (the wire's `application_id`). */
  readonly ownerApplicationId: string;
}

export interface NewTenant {
  readonly organizationName: string;
  readonly organizationNumber: string;
  readonly countryCode: string;
  readonly externalId: string;
  readonly businessUnitName: string;
  readonly parentId?: string;
}

/** Sent as JSON Patch `replace` operations, one per field given. */
export interface TenantPatch {
  readonly organizationName?: string;
  readonly organizationNumber?: string;
  readonly countryCode?: string;
  readonly externalId?: string;
}

export interface TenantSearch {
  readonly externalId?: string;
  readonly organizationName?: string;
  readonly organizationNumber?: string;
  readonly applicationId?: string;
  readonly domainName?: string;
  /** 0 (Connect's default) searches root tenants only. */
  readonly hierarchyLevel?: number;
  /** Required by the API when two or more attributes are given. */
  readonly operator?: 'AND' | 'OR';
}

export interface TenantSearchResult {
  readonly id: string;
  readonly organizationName: string | null;
  readonly organizationNumber: string | null;
  readonly externalId: string | null;
  readonly ownerApplicationId: string | null;
  readonly hierarchyLevel: number | null;
}

export interface TenantApplication {
  readonly applicationId: string;
  readonly name: string | null;
  /** When Connect says the application is suspended on the tenant (suspended_date). */
  readonly suspendedDate: string | null;
  /** Inherited from an ancestor tenant rather than added to this one. */
  readonly inherited: boolean;
}

export interface ConnectUser {
  readonly id: string;
  readonly email: string;
  readonly firstName: string | null;
  readonly lastName: string | null;
  readonly countryCode: string | null;
  readonly preferredLanguage: string | null;
  /** null when the answer did not carry the flag (list items never do). */
  readonly emailChangeAllowed: boolean | null;
  readonly twoStepEnforced: boolean | null;
}

export interface NewUser {
  readonly email: string;
  readonly countryCode: string;
  readonly preferredLanguage: string;
  readonly firstName?: string;
  readonly lastName?: string;
  readonly twoStepEnforced?: boolean;
}

/**
 * The answer to Add user. `created`: a new account (201). `linked`: an account with that email
 * existed and is now linked to the caller (200). `alreadyLinked`: it was linked to the caller
 * already (409 ERROR_USER_LINKED_TO_CLIENT); the client finds its id among the accounts linked to
 * us by email, and the caller must check whose it is before trusting it.
 */
export interface AddUserResult {
  readonly outcome: 'created' | 'linked' | 'alreadyLinked';
  readonly userId: string;
  readonly user: ConnectUser | null;
}

/** A tenant where a user holds roles for one application. */
export interface TenantRoles {
  readonly tenantId: string;
  readonly externalId: string | null;
  /** Sorted, unique. */
  readonly roles: readonly string[];
}

/** A holder of one role on a tenant; Connect names them by email, not by id. */
export interface RoleHolder {
  readonly email: string;
  readonly firstName: string | null;
  readonly lastName: string | null;
}

export interface Country {
  readonly iso2Code: string;
  readonly name: string | null;
}

export interface Language {
  readonly code: string;
  readonly name: string | null;
}

export interface ApplicationInfo {
  readonly applicationId: string;
  readonly name: string | null;
}

export interface TenantRef { readonly tenantId: string }
export interface TenantAppRef { readonly tenantId: string; readonly applicationId: string }
export interface UserRef { readonly userId: string }
export interface UserAppRef { readonly userId: string; readonly applicationId: string }
export interface AppRef { readonly applicationId: string }
export interface TenantAppUserRef { readonly tenantId: string; readonly applicationId: string; readonly userId: string }

export interface ConnectApi {
  /** The client id ud-bridge calls as; accounts are linked to it and tenants it adds are owned by it. */
  readonly clientId: string;

  /** Every tenant owned by us (bulk read, all pages). */
  listOwnTenants(): Promise<Tenant[]>;
  /** At most 50 matches; Connect's search has no pages. */
  searchTenants(query: TenantSearch): Promise<TenantSearchResult[]>;
  getTenant(ref: TenantRef): Promise<Tenant>;
  addTenant(input: NewTenant): Promise<Tenant>;
  updateTenant(input: TenantRef & { readonly patch: TenantPatch }): Promise<Tenant>;

  /** `inherited`: omitted = all, true = only inherited, false = only those on the tenant itself. */
  listTenantApplications(ref: TenantRef & { readonly inherited?: boolean }): Promise<TenantApplication[]>;
  addTenantApplication(ref: TenantAppRef): Promise<WriteResult>;
  deleteTenantApplication(ref: TenantAppRef): Promise<WriteResult>;
  suspendTenantApplication(ref: TenantAppRef): Promise<WriteResult>;
  resumeTenantApplication(ref: TenantAppRef): Promise<WriteResult>;

  /** Accounts linked to us (bulk read, all pages), optionally those with one email. List items carry no flags. */
  listLinkedUsers(query?: { readonly email?: string }): Promise<ConnectUser[]>;
  /** Every account carrying `externalId` for the application: ud-bridge's anchor lookup. */
  findUsersByExternalId(query: AppRef & { readonly externalId: string }): Promise<ConnectUser[]>;
  addUser(input: NewUser): Promise<AddUserResult>;
  getUser(ref: UserRef): Promise<ConnectUser>;
  setUserExternalId(ref: UserAppRef & { readonly externalId: string }): Promise<WriteResult>;
  /** Unlinks ud-bridge's own application from the account. */
  unlinkUser(ref: UserRef): Promise<WriteResult>;
  setEmailChangeAllowed(ref: UserRef & { readonly allowed: boolean }): Promise<WriteResult>;
  setTwoStepEnforced(ref: UserRef & { readonly enforced: boolean }): Promise<WriteResult>;

  /** Replaces the user's roles for the application on the tenant; [] revokes all. Returns the roles now held. */
  setUserTenantRoles(ref: TenantAppUserRef & { readonly roles: readonly string[] }): Promise<string[]>;
  /** Every tenant where the user holds roles for the application (bulk read, all pages). */
  listUserTenantRoles(ref: UserAppRef): Promise<TenantRoles[]>;
  /** Accounts with any role for the application on the tenant (bulk read). */
  listTenantApplicationUsers(ref: TenantAppRef): Promise<ConnectUser[]>;
  /** Holders of one role for the application on the tenant (bulk read). */
  listRoleHolders(ref: TenantAppRef & { readonly role: string }): Promise<RoleHolder[]>;

  getApplication(ref: AppRef): Promise<ApplicationInfo>;
  /** The application's role catalog. */
  listApplicationRoles(ref: AppRef): Promise<string[]>;
  listCountries(): Promise<Country[]>;
  listLanguages(): Promise<Language[]>;
  listBusinessUnits(): Promise<string[]>;
}
