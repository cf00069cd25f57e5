/**
 * Field rules of the Connect API as the simulator enforces them. Each check returns the reason a
 * value is wrong (to be prefixed with the field name) or null when it is fine.
 */
import { COUNTRY_CODES } from './countries.js';

// C0 and C1 control characters: Connect refuses them in names.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function textProblem(value: string, max: number): string | null {
  if (value.length === 0 || value.trim().length === 0) return 'must not be blank';
  if (value.length > max) return `must be at most ${max} characters`;
  if (CONTROL.test(value)) return 'must not contain control characters';
  return null;
}

export function countryProblem(code: string): string | null {
  return COUNTRY_CODES.has(code) ? null : `'${code}' is not an ISO 3166-1 alpha-2 country code`;
}

const NO_WEIGHTS = [3, 2, 7, 6, 5, 4, 3, 2] as const;

/** Norwegian organisation number: 9 digits, the last a mod-11 check digit (remainder 1 is never issued). */
export function norwegianOrgNumberProblem(value: string): string | null {
  if (!/^\d{9}$/.test(value)) return 'must be 9 digits for country NO';
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += Number(value[i]) * NO_WEIGHTS[i]!;
  const remainder = sum % 11;
  if (remainder === 1) return 'check digit does not match';
  const check = remainder === 0 ? 0 : 11 - remainder;
  return check === Number(value[8]) ? null : 'check digit does not match';
}

export function orgNumberProblem(countryCode: string, value: string): string | null {
  if (countryCode === 'NO') return norwegianOrgNumberProblem(value);
  return /^[A-Za-z0-9-]{1,20}$/.test(value) ? null : 'must be 1-20 letters, digits or hyphens';
}

const DISPOSABLE_DOMAINS: ReadonlySet<string> = new Set([
  'mailinator.com', '10minutemail.com', 'guerrillamail.com', 'guerrillamail.net', 'sharklasers.com',
  'yopmail.com', 'trashmail.com', 'tempmail.com', 'temp-mail.org', 'throwawaymail.com',
  'getnada.com', 'dispostable.com', 'maildrop.cc', 'fakeinbox.com', 'mohmal.com',
]);

const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+)$/;

export function emailProblem(email: string): string | null {
  if (email.length > 254) return 'must be at most 254 characters';
  const m = EMAIL.exec(email);
  if (!m) return `'${email}' is not a valid email address`;
  const local = email.slice(0, email.lastIndexOf('@'));
  if (local.length > 64 || local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    return `'${email}' is not a valid email address`;
  }
  return null;
}

export function isDisposableEmail(email: string): boolean {
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return DISPOSABLE_DOMAINS.has(domain);
}

export const LANGUAGES: ReadonlySet<string> = new Set([
  'en', 'nb', 'nn', 'no', 'sv', 'da', 'fi', 'is', 'de', 'nl', 'fr', 'es', 'pl', 'lt', 'lv', 'et', 'it', 'pt',
]);

export function languageProblem(value: string): string | null {
  const m = /^([a-z]{2})(?:-([A-Z]{2}))?$/.exec(value);
  if (!m || !LANGUAGES.has(m[1]!)) return `'${value}' is not a supported language (e.g. en, nb, sv, en-GB)`;
  if (m[2] !== undefined && !COUNTRY_CODES.has(m[2])) return `'${value}' has an unknown region`;
  return null;
}
