/**
 * Contract-test fixture: a simulator on 127.0.0.1:0 with an explicit seed (so the suite does not
 * depend on config/sim-seed.json) and Connect clients pointed at it with short test delays.
 */
import { startSimulator, type SimSeed, type SimulatorHandle } from '../../../src/sim/index.js';
import { ALL_CONNECT_SCOPES, createConnectClient, type ConnectClient, type ConnectClientOptions } from '../../../src/connect/client.js';

export const OUR_CLIENT = 'ud-bridge';
export const OTHER_CLIENT = 'other-app';
export const THIRD_PARTY = 'third-party-app';
/** A client granted only tenant:read: for ERROR_INSUFFICIENT_SCOPE and invalid_scope. */
export const READ_ONLY = 'read-only-app';

export const BUSINESS = 'visma-business';
export const DOCUMENT_CENTER = 'visma-document-center';
export const REPORTING = 'visma-reporting';

export const SECRETS: Record<string, string> = {
  [OUR_CLIENT]: 'local-dev-secret',
  [OTHER_CLIENT]: 'other-secret',
  [THIRD_PARTY]: 'third-secret',
  [READ_ONLY]: 'read-only-secret',
};

/** Tenants in the seed: a customer tenant of ours with one company below it, and one of other-app. */
export const CUSTOMER_TENANT = '00000000-0000-4000-8000-000000000001';
export const COMPANY_TENANT = '00000000-0000-4000-8000-000000000002';
export const OTHER_TENANT = '00000000-0000-4000-8000-000000000003';
export const OTHER_USER = '00000000-0000-4000-8000-0000000000a1';

export const SEED: SimSeed = {
  clients: [
    { client_id: OUR_CLIENT, client_secret: SECRETS[OUR_CLIENT]! },
    { client_id: OTHER_CLIENT, client_secret: SECRETS[OTHER_CLIENT]! },
    { client_id: THIRD_PARTY, client_secret: SECRETS[THIRD_PARTY]!, third_party: true },
    { client_id: READ_ONLY, client_secret: SECRETS[READ_ONLY]!, scopes: ['publicapi:tenant:read'] },
  ],
  applications: [
    { application_id: BUSINESS, roles: ['admin', 'user', 'module:ledger'], tenant_provisioning_grants: [OUR_CLIENT] },
    { application_id: DOCUMENT_CENTER, roles: ['reader', 'writer'], tenant_provisioning_grants: [OUR_CLIENT] },
    { application_id: REPORTING, roles: ['viewer'], tenant_provisioning_grants: [OUR_CLIENT] },
    { application_id: OTHER_CLIENT, roles: ['member'] },
  ],
  tenants: [
    {
      id: CUSTOMER_TENANT, organization_name: 'Fjord Kunde AS', organization_number: '923609016', country_code: 'NO',
      external_id: 'customer-1', application_id: OUR_CLIENT, applications: [{ application_id: BUSINESS }],
      domains: [{ name: 'fjord.example', verified: true }, { name: 'unverified.example', verified: false }],
    },
    {
      id: COMPANY_TENANT, organization_name: 'Fjord Drift AS', organization_number: '914778271', country_code: 'NO',
      external_id: 'company-1', parent_id: CUSTOMER_TENANT, application_id: OUR_CLIENT,
      applications: [{ application_id: DOCUMENT_CENTER }],
    },
    {
      id: OTHER_TENANT, organization_name: 'Someone Else AB', organization_number: '556000-0001', country_code: 'SE',
      external_id: 'company-1', application_id: OTHER_CLIENT, applications: [{ application_id: BUSINESS }],
    },
  ],
  users: [
    { id: OTHER_USER, email: 'Only.Other@example.com', first_name: 'Only', last_name: 'Other', applications: [{ application_id: OTHER_CLIENT }] },
  ],
};

/** A valid Norwegian organisation number (mod-11 check digit) from an 8-digit stem. */
export function norwegianOrgNumber(stem: number): string {
  const weights = [3, 2, 7, 6, 5, 4, 3, 2];
  for (let s = stem; ; s += 1) {
    const digits = String(s % 100_000_000).padStart(8, '0');
    const sum = [...digits].reduce((acc, d, i) => acc + Number(d) * weights[i]!, 0);
    const r = sum % 11;
    if (r === 1) continue;
    return digits + String(r === 0 ? 0 : 11 - r);
  }
}

export type SimOptions = Parameters<typeof startSimulator>[0];

export async function startSim(options: SimOptions = {}): Promise<SimulatorHandle> {
  return startSimulator({ port: 0, seed: SEED, randomSeed: 42, ...options });
}

export function clientFor(sim: SimulatorHandle, overrides: Partial<ConnectClientOptions> = {}): ConnectClient {
  const clientId = overrides.clientId ?? OUR_CLIENT;
  return createConnectClient({
    apiBaseUrl: sim.url,
    tokenUrl: `${sim.url}/connect/token`,
    clientId,
    clientSecret: SECRETS[clientId] ?? 'unknown',
    scopes: ALL_CONNECT_SCOPES,
    timeoutMs: 5_000,
    retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    maxRetryAfterMs: 200,
    ...overrides,
  });
}

/** Awaits a promise that must fail and returns what it threw. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => { throw new Error('expected the call to fail, it succeeded'); },
    (e: unknown) => e,
  );
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
