/** Operations #10–#15, #19, #20 and the person-side email change. */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { badRequest, conflict, forbidden, notFound } from './api-error.js';
import { nowIso, parseBody, sortedBySeq, type OpContext, type OpResult } from './op-context.js';
import { combine, hasWildcard, matcher, paginate, readSearch } from './search.js';
import type { SimStore, UserRec } from './store.js';
import { countryProblem, emailProblem, isDisposableEmail, languageProblem, textProblem } from './validation.js';

const FIELD_CODES = {
  email: 'ERROR_INVALID_EMAIL',
  first_name: 'ERROR_INVALID_FIRST_NAME',
  last_name: 'ERROR_INVALID_LAST_NAME',
  country_code: 'ERROR_COUNTRY_CODE_NOT_EXIST',
  preferred_language: 'ERROR_INVALID_PREFERRED_LANGUAGE',
  '2step_enforced': 'ERROR_INVALID_2STEP_ENFORCED_STATE',
};

const newUserSchema = z.strictObject({
  email: z.string(),
  first_name: z.string(),
  last_name: z.string(),
  country_code: z.string().nullish(),
  preferred_language: z.string().nullish(),
  unverified_phone_number: z.string().max(50).nullish(),
  '2step_enforced': z.boolean().nullish(),
});

export function userJson(u: UserRec): Record<string, unknown> {
  return {
    id: u.id,
    email: u.email,
    email_verified: u.email_verified,
    first_name: u.first_name,
    last_name: u.last_name,
    country_code: u.country_code,
    preferred_language: u.preferred_language,
    email_change_allowed: u.email_change_allowed,
    '2step_enforced': u.two_step_enforced,
    created_date: u.created_date,
    updated_date: u.updated_date,
  };
}

export function requireUser(store: SimStore, userId: string): UserRec {
  const u = store.users.get(userId);
  if (!u) throw notFound('ERROR_USER_NOT_FOUND', `user_id: no user ${userId}`);
  return u;
}

/** A client sees only accounts linked to it; the rest look absent. */
export function requireVisibleUser(ctx: OpContext, userId: string): UserRec {
  const u = ctx.store.users.get(userId);
  if (!u || !u.applications.has(ctx.client.clientId)) throw notFound('ERROR_USER_NOT_FOUND', `user_id: no user ${userId} linked to ${ctx.client.clientId}`);
  return u;
}

export function checkEmail(email: string): void {
  const p = emailProblem(email);
  if (p) throw badRequest('ERROR_INVALID_EMAIL', `email: ${p}`);
  if (isDisposableEmail(email)) throw badRequest('ERROR_DOMAIN_DISPOSABLE', `email: the domain of '${email}' is a disposable-mail domain`);
}

export function addUser(ctx: OpContext): OpResult {
  const { store, client } = ctx;
  const body = parseBody(newUserSchema, ctx.body, FIELD_CODES);
  checkEmail(body.email);
  for (const field of ['first_name', 'last_name'] as const) {
    const p = textProblem(body[field], 100);
    if (p) throw badRequest(FIELD_CODES[field], `${field}: ${p}`);
  }
  if (body.country_code != null) {
    const p = countryProblem(body.country_code);
    if (p) throw badRequest('ERROR_COUNTRY_CODE_NOT_EXIST', `country_code: ${p}`);
  }
  if (body.preferred_language != null) {
    const p = languageProblem(body.preferred_language);
    if (p) throw badRequest('ERROR_INVALID_PREFERRED_LANGUAGE', `preferred_language: ${p}`);
  }
  const existingId = store.userIdByEmail(body.email);
  if (existingId !== undefined) {
    const existing = store.users.get(existingId)!;
    if (existing.applications.has(client.clientId)) {
      throw conflict('ERROR_USER_LINKED_TO_CLIENT', `email: the account ${existing.id} is already linked to ${client.clientId}`, { user_id: existing.id });
    }
    store.linkUser(existing.id, client.clientId);
    ctx.changed();
    return { status: 200, body: userJson(existing) };
  }
  const now = nowIso();
  const u: UserRec = {
    id: randomUUID(),
    email: body.email,
    email_verified: false,
    first_name: body.first_name,
    last_name: body.last_name,
    country_code: body.country_code ?? null,
    preferred_language: body.preferred_language ?? null,
    unverified_phone_number: body.unverified_phone_number ?? null,
    email_change_allowed: true,
    two_step_enforced: body['2step_enforced'] ?? false,
    applications: new Map(),
    created_date: now,
    updated_date: now,
    seq: store.nextSeq(),
  };
  store.insertUser(u);
  store.linkUser(u.id, client.clientId);
  ctx.changed();
  return { status: 201, body: userJson(u) };
}

export function getUser(ctx: OpContext): OpResult {
  return { status: 200, body: userJson(requireVisibleUser(ctx, ctx.params.user_id!)) };
}

export function searchUsers(ctx: OpContext): OpResult {
  const spec = readSearch(ctx.query, { attributes: ['email', 'first_name', 'last_name'], sizeParam: 'per_page' });
  const { store, client } = ctx;
  const tests = spec.attrs.map(([attr, value]) => {
    const m = matcher(value);
    return (u: UserRec): boolean => m(u[attr as 'email']);
  });
  let candidates: Iterable<string> = store.userIdsLinkedTo(client.clientId);
  const exactEmail = spec.attrs.find(([a, v]) => a === 'email' && !hasWildcard(v));
  if (exactEmail && (spec.operator === 'AND' || spec.attrs.length === 1)) {
    const id = store.userIdByEmail(exactEmail[1]);
    candidates = id !== undefined && store.userIdsLinkedTo(client.clientId).has(id) ? [id] : [];
  }
  const test = combine(tests as Array<(x: never) => boolean>, spec.operator) as (u: UserRec) => boolean;
  const matches = sortedBySeq([...candidates].map((id) => store.users.get(id)!).filter(test));
  const page = paginate(matches, spec.page, spec.size);
  return { status: 200, body: { users: page.items.map(userJson), total_users: page.total, total_pages: page.totalPages } };
}

export function listUserApplications(ctx: OpContext): OpResult {
  const u = requireVisibleUser(ctx, ctx.params.user_id!);
  const applications = [...u.applications].map(([application_id, external_id]) => ({ application_id, external_id }));
  return { status: 200, body: { applications } };
}

/** Only the application itself may change its own link or external id. */
function requireOwnLink(ctx: OpContext): { u: UserRec; applicationId: string } {
  const u = requireUser(ctx.store, ctx.params.user_id!);
  const applicationId = ctx.params.application_id!;
  if (applicationId !== ctx.client.clientId) {
    throw forbidden('ERROR_NOT_ALLOWED', `application_id: ${ctx.client.clientId} may not change the link of application ${applicationId}`);
  }
  if (!u.applications.has(applicationId)) {
    throw notFound('ERROR_APPLICATION_NOT_LINKED', `user ${u.id}: not linked to application ${applicationId}`);
  }
  return { u, applicationId };
}

export function unlinkUserApplication(ctx: OpContext): OpResult {
  const { u, applicationId } = requireOwnLink(ctx);
  ctx.store.unlinkUser(u.id, applicationId);
  ctx.changed();
  return { status: 204 };
}

const externalIdSchema = z.strictObject({ external_id: z.string().min(1).max(255) });

export function setUserExternalId(ctx: OpContext): OpResult {
  const body = parseBody(externalIdSchema, ctx.body, { external_id: 'ERROR_INVALID_EXTERNAL_ID' });
  const { u, applicationId } = requireOwnLink(ctx);
  u.applications.set(applicationId, body.external_id);
  ctx.changed();
  return { status: 200, body: { application_id: applicationId, external_id: body.external_id } };
}

const emailChangeSchema = z.strictObject({ email_change_allowed: z.boolean() });

export function setEmailChangeAllowed(ctx: OpContext): OpResult {
  const u = requireVisibleUser(ctx, ctx.params.user_id!);
  const body = parseBody(emailChangeSchema, ctx.body);
  u.email_change_allowed = body.email_change_allowed;
  u.updated_date = nowIso();
  ctx.changed();
  return { status: 200, body: userJson(u) };
}

const twoStepSchema = z.strictObject({ '2step_enforced': z.boolean() });

export function setTwoStepEnforced(ctx: OpContext): OpResult {
  const u = requireVisibleUser(ctx, ctx.params.user_id!);
  const body = parseBody(twoStepSchema, ctx.body, FIELD_CODES);
  u.two_step_enforced = body['2step_enforced'];
  u.updated_date = nowIso();
  ctx.changed();
  return { status: 200, body: userJson(u) };
}

export interface EmailChange {
  readonly user: UserRec;
  readonly oldValues: Record<string, unknown>;
  readonly modified: string[];
}

/** A person changes their own email in Connect: no client involved, so no visibility rule. */
export function changeEmail(store: SimStore, userId: string, email: string): EmailChange {
  const u = requireUser(store, userId);
  checkEmail(email);
  const other = store.userIdByEmail(email);
  if (other !== undefined && other !== u.id) throw conflict('ERROR_EMAIL_TAKEN', `email: '${email}' belongs to another account`);
  const oldValues = profile(u);
  store.setUserEmail(u, email);
  u.email_verified = true;
  u.updated_date = nowIso();
  const now = profile(u);
  const modified = Object.keys(now).filter((k) => now[k] !== oldValues[k]);
  return { user: u, oldValues, modified };
}

export function profile(u: UserRec): Record<string, unknown> {
  return {
    first_name: u.first_name,
    last_name: u.last_name,
    country_code: u.country_code,
    preferred_language: u.preferred_language,
    email: u.email,
    email_verified: u.email_verified,
    phone_number: u.unverified_phone_number,
    phone_verified: false,
  };
}
