/**
 * The redactor: every log line passes through it, so a secret that reaches a logger call by
 * any route (message text, a field, an Error's stack, a nested request dump) is replaced before
 * it is written. Two layers, because neither alone is enough:
 *  - exact values the config resolved (client secret, SQL password, daemon token), also in the
 *    encoded forms they travel in (URL-encoded, form-encoded, base64), so a secret we know is
 *    caught wherever it appears;
 *  - patterns and sensitive keys, for secrets we never saw (a token Connect handed back, a
 *    password inside a connection string someone pasted into an error).
 */
export const REDACTED = '[redacted]';

/** Keys whose values are never logged, whatever their type. */
export const SENSITIVE_KEY = /pass(word)?|secret|token|authorization|connection.?string|api.?key/i;

export interface RedactorOptions {
  /** Secret values resolved by the config loader; empty and missing ones are ignored. */
  readonly secrets?: ReadonlyArray<string | undefined | null>;
}

export interface Redactor {
  /** Replaces known secrets and secret-looking patterns inside one string. */
  redactString(text: string): string;
  /**
   * A redacted deep copy: strings are redacted, values under sensitive keys become "[redacted]",
   * Errors become plain objects (name, message, stack, code, cause…) so nothing is lost or leaked.
   */
  redactValue(value: unknown): unknown;
}

interface Rule {
  readonly pattern: RegExp;
  readonly replace: string | ((match: string, ...groups: string[]) => string);
}

const KEY_SOURCE = SENSITIVE_KEY.source;

/** Pattern layer, applied after the exact values. Order matters: the specific before the general. */
const RULES: readonly Rule[] = [
  // Authorization headers in any dump style: `Authorization: Bearer x`, `"authorization":"Basic x"`.
  {
    pattern: /(authorization["']?\s*[:=]\s*["']?)(bearer|basic|negotiate|digest)?\s*[^\s"',;}\\]+/gi,
    replace: (_m, prefix: string, scheme: string | undefined) => `${prefix}${scheme ? `${scheme} ` : ''}${REDACTED}`,
  },
  { pattern: /\b(bearer)\s+[A-Za-z0-9\-._~+/]+=*/gi, replace: `$1 ${REDACTED}` },
  // HTTP Basic credentials anywhere (a header echoed without its name): base64(id:secret).
  { pattern: /\b(basic)\s+[A-Za-z0-9+/]{8,}={0,2}/gi, replace: `$1 ${REDACTED}` },
  // JWTs: three base64url parts, the first one a JSON header (`{"` → `eyJ`).
  { pattern: /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, replace: REDACTED },
  // Connection strings: `Password=x;`, `Pwd={x;y}`, `password="x"` (ODBC/ADO.NET quoting rules).
  {
    pattern: /\b(password|pwd)(\s*=\s*)(\{(?:[^}]|\}\})*\}|"[^"]*"|'[^']*'|[^;\s]*)/gi,
    replace: `$1$2${REDACTED}`,
  },
  // Form bodies and query strings: `client_secret=x&…`, `access_token=x`.
  {
    pattern: new RegExp(`\\b([A-Za-z0-9_.-]*(?:${KEY_SOURCE})[A-Za-z0-9_.-]*)=([^&\\s"';]+)`, 'gi'),
    replace: `$1=${REDACTED}`,
  },
  // JSON text embedded in a string: `"client_secret":"x"` (e.g. a response body in an error).
  {
    pattern: new RegExp(`("[A-Za-z0-9_.-]*(?:${KEY_SOURCE})[A-Za-z0-9_.-]*"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'gi'),
    replace: `$1"${REDACTED}"`,
  },
];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Each form a secret is likely to travel in: as is, URL- and form-encoded, base64 and base64url. */
function encodedForms(secret: string): string[] {
  const forms = new Set<string>([secret]);
  forms.add(encodeURIComponent(secret));
  forms.add(new URLSearchParams({ s: secret }).toString().slice(2));
  const b64 = Buffer.from(secret, 'utf8').toString('base64');
  forms.add(b64);
  forms.add(b64.replace(/=+$/, ''));
  forms.add(Buffer.from(secret, 'utf8').toString('base64url'));
  return [...forms].filter((f) => f.length > 0);
}

function buildSecretPattern(options: RedactorOptions): RegExp | null {
  const forms = new Set<string>();
  for (const s of options.secrets ?? []) {
    if (typeof s === 'string' && s.length > 0) for (const f of encodedForms(s)) forms.add(f);
  }
  if (forms.size === 0) return null;
  // Longest first, so a secret that contains another secret is replaced whole.
  const alternatives = [...forms].sort((a, b) => b.length - a.length).map(escapeRegExp);
  return new RegExp(alternatives.join('|'), 'g');
}

const MAX_DEPTH = 12;

/**
 * The pattern layer alone, for text that arrives from outside before any config is at hand (an
 * error answer of Connect): bearer and Basic credentials, JWTs, connection-string passwords,
 * `secret=`/`"token":` pairs. Known secret values are the redactor's job on top of this.
 */
export function redactPatterns(text: string): string {
  let out = text;
  for (const rule of RULES) {
    rule.pattern.lastIndex = 0;
    out = out.replace(rule.pattern, rule.replace as (substring: string, ...args: string[]) => string);
  }
  return out;
}

export function createRedactor(options: RedactorOptions = {}): Redactor {
  const secretPattern = buildSecretPattern(options);

  function redactString(text: string): string {
    return redactPatterns(secretPattern === null ? text : text.replace(secretPattern, REDACTED));
  }

  function redactError(error: Error, seen: WeakSet<object>, depth: number): Record<string, unknown> {
    const plain: Record<string, unknown> = { name: error.name, message: error.message };
    if (error.stack !== undefined) plain.stack = error.stack;
    for (const key of Object.keys(error)) plain[key] = (error as unknown as Record<string, unknown>)[key];
    if (error.cause !== undefined) plain.cause = error.cause;
    return walkObject(plain, seen, depth);
  }

  function walkObject(obj: Record<string, unknown>, seen: WeakSet<object>, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(obj)) {
      out[key] = SENSITIVE_KEY.test(key) && v !== undefined && v !== null ? REDACTED : walk(v, seen, depth + 1);
    }
    return out;
  }

  function walk(value: unknown, seen: WeakSet<object>, depth: number): unknown {
    if (typeof value === 'string') return redactString(value);
    if (value === null || typeof value !== 'object') return value;
    if (depth > MAX_DEPTH) return '[too deep]';
    if (seen.has(value)) return '[circular]';
    seen.add(value);
    try {
      if (value instanceof Error) return redactError(value, seen, depth);
      if (Array.isArray(value)) return value.map((v) => walk(v, seen, depth + 1));
      if (value instanceof Date) return value;
      if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
      if (value instanceof Map) return walkObject(Object.fromEntries(value), seen, depth);
      if (value instanceof URL) return redactString(value.href);
      return walkObject(value as Record<string, unknown>, seen, depth);
    } finally {
      // A value seen twice side by side (not a cycle) is still written out twice.
      seen.delete(value);
    }
  }

  return {
    redactString,
    redactValue: (value) => walk(value, new WeakSet(), 0),
  };
}
