/** The token endpoint and bearer-token checks: client_credentials, HS256 JWTs, scopes. */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { defaultContract } from '../connect/contract.js';
import { SimApiError } from './api-error.js';
import type { ClientRec, SimStore } from './store.js';

/** What a client seeded without a scope list is granted: every scope the contract's operations name. */
export const SCOPES: readonly string[] = defaultContract().scopes;

export interface Claims {
  readonly iss: string;
  readonly sub: string;
  readonly client_id: string;
  readonly scope: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

export class TokenIssuer {
  // A fresh key per simulator: tokens from one run never validate against another.
  private readonly key = randomBytes(32);

  constructor(
    private readonly issuer: () => string,
    private readonly ttlSeconds: number,
  ) {}

  issue(clientId: string, scope: string): { token: string; expiresIn: number } {
    const iat = Math.floor(Date.now() / 1000);
    const claims: Claims = { iss: this.issuer(), sub: clientId, client_id: clientId, scope, iat, exp: iat + this.ttlSeconds, jti: randomUUID() };
    const signingInput = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
    return { token: `${signingInput}.${this.sign(signingInput)}`, expiresIn: this.ttlSeconds };
  }

  /** Throws 401 ERROR_INVALID_TOKEN with the reason. */
  verify(authorization: string | undefined): Claims {
    const invalid = (why: string): SimApiError => new SimApiError(401, 'ERROR_INVALID_TOKEN', `Authorization: ${why}`);
    if (!authorization) throw invalid('missing bearer token');
    const m = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!m) throw invalid('expected "Bearer <token>"');
    const parts = m[1]!.split('.');
    if (parts.length !== 3) throw invalid('malformed token');
    const expected = Buffer.from(this.sign(`${parts[0]}.${parts[1]}`));
    const given = Buffer.from(parts[2]!);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalid('bad signature');
    let claims: Claims;
    try {
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Claims;
    } catch {
      throw invalid('malformed token');
    }
    if (typeof claims.exp !== 'number' || claims.exp <= Date.now() / 1000) throw invalid('token expired');
    return claims;
  }

  private sign(input: string): string {
    return createHmac('sha256', this.key).update(input).digest('base64url');
  }
}

export function hasScope(claims: Claims, scope: string | null): boolean {
  return scope === null || claims.scope.split(' ').includes(scope);
}

/** An OAuth-style failure of the token endpoint (`{error}` body, not the API's envelope). */
export class OAuthError extends SimApiError {
  constructor(status: number, error: string, description: string) {
    super(status, error, description);
  }
  override body(): Record<string, unknown> {
    return { error: this.code, error_description: this.message };
  }
}

export interface ClientCredentials {
  readonly clientId: string;
  readonly secret: string;
}

/** HTTP Basic wins over form fields, as RFC 6749 prefers it. */
export function readClientCredentials(authorization: string | undefined, form: URLSearchParams): ClientCredentials | null {
  if (authorization && /^Basic\s+/i.test(authorization)) {
    const decoded = Buffer.from(authorization.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return null;
    try {
      return { clientId: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
    } catch {
      return null;
    }
  }
  const clientId = form.get('client_id');
  const secret = form.get('client_secret');
  return clientId && secret ? { clientId, secret } : null;
}

function secretMatches(client: ClientRec, secret: string): boolean {
  const a = Buffer.from(client.secret);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function issueToken(
  store: SimStore,
  issuer: TokenIssuer,
  credentials: ClientCredentials | null,
  form: URLSearchParams,
): Record<string, unknown> {
  const grantType = form.get('grant_type');
  if (!grantType) throw new OAuthError(400, 'invalid_request', 'grant_type: required');
  if (grantType !== 'client_credentials') throw new OAuthError(400, 'unsupported_grant_type', `grant_type: '${grantType}' is not supported`);
  if (!credentials) throw new OAuthError(401, 'invalid_client', 'client authentication missing (client_id/client_secret or HTTP Basic)');
  const client = store.clients.get(credentials.clientId);
  if (!client || !secretMatches(client, credentials.secret)) throw new OAuthError(401, 'invalid_client', 'client_id or client_secret is wrong');
  const granted = client.scopes ? [...client.scopes] : SCOPES;
  const requested = (form.get('scope') ?? '').split(' ').filter((s) => s.length > 0);
  for (const s of requested) {
    if (!granted.includes(s)) throw new OAuthError(400, 'invalid_scope', `scope: '${s}' is not granted to ${client.clientId}`);
  }
  const scope = (requested.length > 0 ? [...new Set(requested)] : granted).join(' ');
  const { token, expiresIn } = issuer.issue(client.clientId, scope);
  return { access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope };
}
