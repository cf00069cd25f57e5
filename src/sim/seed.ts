/**
 * The simulator's seed format: the default seed (config/sim-seed.json), `POST /_sim/seed`, the
 * state file and `dump()` all share it, so a dump can be loaded back as a seed.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { SimSeedError } from './api-error.js';

/** Business unit names a seed gets when it names none: the simulator's own, not Visma's list. */
export const DEFAULT_BUSINESS_UNITS = ['Visma Norway', 'Visma Sweden', 'Visma Denmark', 'Visma Finland', 'Visma Netherlands'] as const;

/** A fixed date for seeded objects that give none, so dumps of a fresh simulator are stable. */
export const SEED_EPOCH = '2024-01-01T00:00:00.000Z';

const id = z.string().min(1).max(255);
const optionalText = z.string().max(255).nullish().transform((v) => v ?? null);

export const clientSchema = z.strictObject({
  client_id: id,
  client_secret: z.string().min(1),
  /** Absent: every scope. */
  scopes: z.array(z.string()).nullish().transform((v) => v ?? null),
  third_party: z.boolean().default(false),
});

export const applicationSchema = z.strictObject({
  application_id: id,
  name: z.string().nullish().transform((v) => v ?? null),
  roles: z.array(z.string().min(1)).default([]),
  /** Clients allowed to add this application to tenants they own. */
  tenant_provisioning_grants: z.array(id).default([]),
});

export const tenantSchema = z.strictObject({
  id,
  organization_name: z.string().min(1),
  organization_number: z.string().min(1),
  country_code: z.string().length(2),
  external_id: z.string().nullish().transform((v) => v ?? null),
  business_unit_name: z.string().min(1).default(DEFAULT_BUSINESS_UNITS[0]),
  parent_id: z.string().nullish().transform((v) => v ?? null),
  /** The owner application (client). */
  application_id: id,
  address_1: optionalText,
  postal_code: optionalText,
  city: optionalText,
  allow_self_activation: z.boolean().default(false),
  domains: z.array(z.strictObject({ name: z.string().min(1), verified: z.boolean().default(true) })).default([]),
  applications: z
    .array(z.strictObject({ application_id: id, status: z.enum(['active', 'suspended']).default('active') }))
    .default([]),
  created_date: z.string().default(SEED_EPOCH),
  updated_date: z.string().default(SEED_EPOCH),
});

export const userSchema = z.strictObject({
  id,
  email: z.string().min(3),
  email_verified: z.boolean().default(true),
  first_name: z.string().min(1),
  last_name: z.string().min(1),
  country_code: z.string().nullish().transform((v) => v ?? null),
  preferred_language: z.string().nullish().transform((v) => v ?? null),
  unverified_phone_number: z.string().nullish().transform((v) => v ?? null),
  email_change_allowed: z.boolean().default(true),
  '2step_enforced': z.boolean().default(false),
  applications: z
    .array(z.strictObject({ application_id: id, external_id: z.string().nullish().transform((v) => v ?? null) }))
    .default([]),
  created_date: z.string().default(SEED_EPOCH),
  updated_date: z.string().default(SEED_EPOCH),
});

export const roleGrantSchema = z.strictObject({
  tenant_id: id,
  application_id: id,
  user_id: id,
  roles: z.array(z.string().min(1)),
});

export const subscriptionSchema = z.strictObject({
  id,
  url: z.url(),
  secret: z.string().min(1),
  application_id: id,
  /** Absent: every event. */
  events: z.array(z.string()).nullish().transform((v) => v ?? null),
});

export const seedSchema = z.strictObject({
  clients: z.array(clientSchema).default([]),
  applications: z.array(applicationSchema).default([]),
  tenants: z.array(tenantSchema).default([]),
  users: z.array(userSchema).default([]),
  roles: z.array(roleGrantSchema).default([]),
  subscriptions: z.array(subscriptionSchema).default([]),
  business_units: z.array(z.string().min(1)).min(1).default([...DEFAULT_BUSINESS_UNITS]),
});

/** What a caller writes (defaults may be left out). */
export type SimSeed = z.input<typeof seedSchema>;
/** The normalised seed; also the shape of `dump()`. */
export type SimDump = z.output<typeof seedSchema>;
export type SeedTenant = SimDump['tenants'][number];
export type SeedUser = SimDump['users'][number];

export function defaultSeedPath(): string {
  // src/sim/seed.ts and dist/sim/seed.js both sit two levels below the package root.
  return fileURLToPath(new URL('../../config/sim-seed.json', import.meta.url));
}

function describeIssues(where: string, error: z.ZodError): string {
  const first = error.issues[0];
  const path = first?.path.length ? first.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('') : '';
  return `${where}${path}: ${first?.message ?? 'invalid'}`;
}

export function parseSeed(value: unknown, where = 'seed'): SimDump {
  const result = seedSchema.safeParse(value);
  if (!result.success) throw new SimSeedError(describeIssues(where, result.error));
  return result.data;
}

export function readSeedFile(path: string): SimDump {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SimSeedError(`seed file ${path}: cannot be read`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SimSeedError(`seed file ${path}: not valid JSON`, { cause: e });
  }
  return parseSeed(json, `seed file ${path}`);
}

export function loadSeed(seed: SimSeed | string | undefined): SimDump {
  if (seed === undefined) return readSeedFile(defaultSeedPath());
  if (typeof seed === 'string') return readSeedFile(seed);
  return parseSeed(seed);
}
