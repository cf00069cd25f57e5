/**
 * Who may use the status page: a login form checks the daemon's HTTP token once and sets a
 * session cookie (HttpOnly, SameSite=Strict, never the token itself, never in a URL). A form
 * that changes something (approve, log out) carries the session's own CSRF token, and a POST
 * whose Origin or Sec-Fetch-Site says it came from another site is refused before that.
 * Sessions live in the daemon's memory: a restart asks for the token again.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'udb_session';
const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
const MAX_SESSIONS = 200;

export interface Session {
  readonly id: string;
  readonly csrf: string;
  readonly expiresAt: number;
  /** A message shown once on the next page (after a redirect). */
  flash?: { readonly kind: 'ok' | 'error'; readonly text: string };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Equal without the time taken saying how much matched. */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export class Sessions {
  private readonly byId = new Map<string, Session>();
  constructor(private readonly now: () => number = Date.now) {}

  create(): Session {
    const t = this.now();
    for (const [id, s] of this.byId) if (s.expiresAt <= t) this.byId.delete(id);
    // Oldest first in a Map: past the cap the oldest session is the one to go.
    while (this.byId.size >= MAX_SESSIONS) this.byId.delete(this.byId.keys().next().value!);
    const session: Session = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(32).toString('base64url'), expiresAt: t + SESSION_TTL_MS };
    this.byId.set(session.id, session);
    return session;
  }

  of(req: IncomingMessage): Session | undefined {
    const id = cookieValue(req, SESSION_COOKIE);
    if (id === undefined) return undefined;
    const s = this.byId.get(id);
    if (s === undefined || s.expiresAt <= this.now()) {
      if (s) this.byId.delete(id);
      return undefined;
    }
    return s;
  }

  end(session: Session): void {
    this.byId.delete(session.id);
  }
}

export function sessionCookie(session: Session): string {
  return `${SESSION_COOKIE}=${session.id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(SESSION_TTL_MS / 1000)}`;
}

export const CLEAR_COOKIE = `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;

/**
 * Why a state-changing request must be refused as cross-site, or null. Browsers send Origin and
 * Sec-Fetch-Site on every POST; a request with neither (curl, a script on this host) is judged
 * by the CSRF token alone.
 */
export function crossSiteReason(req: IncomingMessage): string | null {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `Sec-Fetch-Site is ${String(site)}`;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const host = req.headers.host;
    if (origin === 'null' || host === undefined || (origin !== `http://${host}` && origin !== `https://${host}`)) return `Origin ${origin} is not this server`;
  }
  return null;
}
