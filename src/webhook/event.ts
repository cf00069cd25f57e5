/**
 * The `USERACCOUNT_MODIFIED` body (Visma's account page): `{event, event_date, user_id, payload:
 * {old_values, current_values, modified_attributes, application_id}}`, the value objects with
 * first_name, last_name, email and more. Parsed leniently (unknown fields are Connect's to add),
 * strictly where ud-bridge depends on a field: the account id and the event's time.
 */
import { z } from 'zod';
import type { ProfileValues } from '../app/profile-writeback.js';

export const USERACCOUNT_MODIFIED = 'USERACCOUNT_MODIFIED';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const text = z.string().nullish();
const valuesSchema = z.looseObject({ first_name: text, last_name: text, email: text });

const bodySchema = z.looseObject({
  event: z.string({ error: 'event: expected the event name as text' }),
  event_date: z.string({ error: 'event_date: expected the time of the event as text' }),
  user_id: z.string({ error: 'user_id: expected the Connect user id' }).regex(UUID, { error: 'user_id: expected a Connect user id (uuid)' }),
  payload: z.looseObject({
    old_values: valuesSchema.nullish(),
    current_values: valuesSchema,
    modified_attributes: z.array(z.string()).nullish(),
    application_id: z.string().nullish(),
  }, { error: 'payload: expected an object with current_values' }),
});

export interface UserModifiedEvent {
  readonly event: string;
  /** ISO 8601 UTC, milliseconds. */
  readonly eventDate: string;
  readonly userId: string;
  readonly current: ProfileValues;
  readonly previous: ProfileValues;
  readonly modified: readonly string[];
  readonly applicationId: string | null;
}

export class WebhookBodyError extends Error {}

/** `2025-03-01T10:00:00` (no zone) is taken as UTC, as Connect's other timestamps are. */
export function normaliseEventDate(raw: string): string | null {
  const s = raw.trim();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(s)) return null;
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(s) ? s : `${s}Z`;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function values(v: z.infer<typeof valuesSchema> | null | undefined): ProfileValues {
  const out: { email?: string; firstName?: string; lastName?: string } = {};
  if (typeof v?.email === 'string') out.email = v.email;
  if (typeof v?.first_name === 'string') out.firstName = v.first_name;
  if (typeof v?.last_name === 'string') out.lastName = v.last_name;
  return out;
}

/** The event name alone, to tell an event ud-bridge handles from one it only acknowledges. */
export function eventName(json: unknown): string | undefined {
  return typeof json === 'object' && json !== null && typeof (json as { event?: unknown }).event === 'string' ? (json as { event: string }).event : undefined;
}

/** Throws a WebhookBodyError naming the field that is wrong. */
export function parseUserModified(json: unknown): UserModifiedEvent {
  const r = bodySchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'body';
    const message = issue?.message ?? 'invalid';
    throw new WebhookBodyError(message.includes(':') ? message : `${where}: ${message}`);
  }
  const eventDate = normaliseEventDate(r.data.event_date);
  if (eventDate === null) throw new WebhookBodyError(`event_date: expected an ISO 8601 time, got ${JSON.stringify(r.data.event_date.slice(0, 40))}`);
  const p = r.data.payload;
  return {
    event: r.data.event,
    eventDate,
    userId: r.data.user_id,
    current: values(p.current_values),
    previous: values(p.old_values),
    modified: p.modified_attributes ?? [],
    applicationId: p.application_id ?? null,
  };
}
