/** Accounts: add, read, the accounts linked to a client, external ids, unlink, flags; and the person-side email change. */
import { randomUUID } from 'node:crypto';
import { badRequest, conflict, forbidden, notFound, unauthorized } from './api-error.js';
import { nowIso, sortedBySeq, type OpContext, type SimReply } from './op-context.js';
import { listReply, pagedReply, present, readPaging } from './paging.js';
import { matcher } from './search.js';
import type { SimStore, UserRec } from './store.js';
import { countryProblem, emailProblem, isDisposableEmail, languageProblem, textProblem } from './validation.js';

/** An account as the contract's User schema has it (flags included). */
export function userJson(u: UserRec): Record<string, unknown> {
  return present({
    id: u.id,
    email: u.email,
    email_verified: u.email_verified,
    email_change_allowed: u.email_change_allowed,
    first_name: u.first_name || null,
    last_name: u.last_name || null,
    country_code: u.country_code,
    preferred_language: u.preferred_language,
    created_date: u.created_date,
    updated_date: u.updated_date,
    '2step_enforced': u.two_step_enforced,
  });
}

/** A list item of GET /v1.0/users: no flags. */
function userListItem(u: UserRec): Record<string, unknown> {
  return present({
    id: u.id,
    email: u.email,
    first_name: u.first_name || null,
    last_name: u.last_name || null,
    country_code: u.country_code,
    preferred_language: u.preferred_language,
    created_date: u.created_date,
    updated_date: u.updated_date,
  });
}

/** In Connect an application is its OAuth client: a seeded client is an application too. */
function isApplication(store: SimStore, id: string): boolean {
  return store.applications.has(id) || store.clients.has(id);
}

export function requireUser(store: SimStore, userId: string, code = 'ERROR_USER_NOT_EXIST'): UserRec {
  const u = store.users.get(userId);
  if (!u) throw notFound(code, `user_id: no user ${userId}`);
  return u;
}

/** A client reads only accounts linked to it; the rest look absent (not confirmed for Connect). */
export function requireVisibleUser(ctx: OpContext, userId: string, code = 'ERROR_USER_NOT_EXIST'): UserRec {
  const u = ctx.store.users.get(userId);
  if (!u || !u.applications.has(ctx.client.clientId)) throw notFound(code, `user_id: no user ${userId} linked to ${ctx.client.clientId}`);
  return u;
}

export function checkEmail(email: string): void {
  const p = emailProblem(email);
  if (p) throw badRequest('ERROR_INVALID_EMAIL', `email: ${p}`);
  if (isDisposableEmail(email)) throw forbidden('ERROR_DOMAIN_DISPOSABLE', `email: the domain of '${email}' is a disposable-mail domain`);
}

interface NewUserBody {
  email: string;
  country_code: string;
  preferred_language: string;
  first_name?: string;
  last_name?: string;
  '2step_enforced'?: boolean;
}

export function addUser(ctx: OpContext): SimReply {
  const { store, client } = ctx;
  const body = ctx.body as NewUserBody;
  checkEmail(body.email);
  for (const [field, code] of [['first_name', 'ERROR_INVALID_FIRST_NAME'], ['last_name', 'ERROR_INVALID_LAST_NAME']] as const) {
    const value = body[field];
    if (value === undefined) continue;
    const p = textProblem(value, 50);
    if (p) throw badRequest(code, `${field}: ${p}`);
  }
  const cp = countryProblem(body.country_code);
  if (cp) throw badRequest('ERROR_INVALID_COUNTRY_CODE', `country_code: ${cp}`);
  const lp = languageProblem(body.preferred_language);
  if (lp) throw notFound('ERROR_PREFERRED_LANGUAGE_NOT_EXIST', `preferred_language: ${lp}`);
  const existingId = store.userIdByEmail(body.email);
  if (existingId !== undefined) {
    const existing = store.users.get(existingId)!;
    if (existing.applications.has(client.clientId)) {
      throw conflict('ERROR_USER_LINKED_TO_CLIENT', `email: the account ${existing.id} is already linked to ${client.clientId}`);
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
    first_name: body.first_name ?? '',
    last_name: body.last_name ?? '',
    country_code: body.country_code,
    preferred_language: body.preferred_language,
    unverified_phone_number: null,
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

export function getUser(ctx: OpContext): SimReply {
  return { status: 200, body: userJson(requireVisibleUser(ctx, ctx.params.user_id!)) };
}

export function getUsers(ctx: OpContext): SimReply {
  const { store, client } = ctx;
  const email = ctx.query.email;
  const test = typeof email === 'string' ? matcher(email) : () => true;
  const linked = sortedBySeq([...store.userIdsLinkedTo(client.clientId)].map((id) => store.users.get(id)!)).filter((u) => test(u.email));
  return pagedReply(linked.map(userListItem), readPaging(ctx.query), (users, total, totalPages) => ({ users, total_users: total, total_pages: totalPages }));
}

export function getUsersByApplicationIdAndExternalId(ctx: OpContext): SimReply {
  const { store } = ctx;
  const applicationId = String(ctx.query.application_id);
  const externalId = String(ctx.query.external_id);
  if (!isApplication(store, applicationId)) throw badRequest('ERROR_INVALID_APPLICATIONID', `application_id: no application ${applicationId}`);
  const carriers = sortedBySeq(store.userIdsCarrying(applicationId, externalId).map((id) => store.users.get(id)!));
  return listReply(carriers.map(userJson));
}

export function addRemoveExternalIdForApplication(ctx: OpContext): SimReply {
  const { store, client } = ctx;
  const u = requireUser(store, ctx.params.user_id!);
  const applicationId = ctx.params.application_id!;
  if (!isApplication(store, applicationId)) throw notFound('ERROR_APPLICATION_NOT_EXIST', `application_id: no application ${applicationId}`);
  if (applicationId !== client.clientId) throw unauthorized('ERROR_UNAUTHORIZED_CLIENT', `application_id: ${client.clientId} may not change the external id of ${applicationId}`);
  if (!u.applications.has(applicationId)) throw conflict('ERROR_USER_UNLINKED_FROM_APPLICATION', `user ${u.id}: not linked to ${applicationId}`);
  const [op] = ctx.body as Array<{ op: 'add' | 'remove'; value?: string }>;
  if (op!.op === 'remove') {
    store.setExternalId(u, applicationId, null);
  } else {
    if (op!.value === undefined) throw badRequest('ERROR_INVALID_INPUT_DATA', 'value: required for add');
    // An account carries one external id per application; changing it is remove, then add.
    if (u.applications.get(applicationId) != null) throw conflict('ERROR_EXTERNAL_ID_ALREADY_ADDED', `user ${u.id}: already has an external id for ${applicationId}`);
    store.setExternalId(u, applicationId, op!.value);
  }
  ctx.changed();
  return { status: 204 };
}

export function unlinkApplicationFromUser(ctx: OpContext): SimReply {
  const u = requireUser(ctx.store, ctx.params.user_id!);
  if (!u.applications.has(ctx.client.clientId)) throw conflict('ERROR_USER_UNLINKED_FROM_CLIENT', `user ${u.id}: not linked to ${ctx.client.clientId}`);
  ctx.store.unlinkUser(u.id, ctx.client.clientId);
  ctx.changed();
  return { status: 204 };
}

export function changeEmailChangeAllowedState(ctx: OpContext): SimReply {
  const u = requireVisibleUser(ctx, ctx.params.user_id!, 'ERROR_USER_NOT_EXISTS');
  const allowed = ctx.params.state === 'true';
  if (u.email_change_allowed === allowed) throw badRequest('ERROR_INVALID_ISALLOWEDEMAILCHANGE_STATE', `email change allowed is ${allowed} already`);
  u.email_change_allowed = allowed;
  u.updated_date = nowIso();
  ctx.changed();
  return { status: 200 };
}

export function change2StepAuthenticationEnforcement(ctx: OpContext): SimReply {
  const u = requireVisibleUser(ctx, ctx.params.user_id!, 'ERROR_USER_NOT_EXISTS');
  const enforced = ctx.params.state === 'true';
  if (u.two_step_enforced !== enforced) {
    u.two_step_enforced = enforced;
    u.updated_date = nowIso();
    ctx.changed();
  }
  return { status: 200 };
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
