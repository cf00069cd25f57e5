/**
 * A real OAuth 2.0 authorization server for the token tests: oidc-provider (a certified OpenID
 * provider) on 127.0.0.1:0 with the client_credentials grant, opaque access tokens and the scopes
 * ud-bridge asks for. It records every token request (how the client authenticated, the scope,
 * the answer), and a resource-server check says whether a token is one it issued and still valid.
 * `startTokenCheckingGateway` puts that check in front of the simulator, so a test exercises the
 * real Connect client against this token endpoint and the simulator's real API answers.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import Provider, { type AdapterFactory, type AdapterPayload } from 'oidc-provider';
import { CONNECT_SCOPES } from '../../src/connect/client.js';
import type { SimulatorHandle } from '../../src/sim/index.js';

export interface OAuthClientSpec {
  readonly clientId: string;
  readonly clientSecret: string;
  /** The registered method; oidc-provider accepts either secret method from a client. */
  readonly auth: 'form' | 'basic';
  /** What the client may ask for; the provider refuses any other known scope (invalid_scope). */
  readonly scopes: readonly string[];
}

export interface TokenRequestRecord {
  /** `basic` when an Authorization: Basic header came, `form` when client_secret was in the body. */
  readonly auth: 'basic' | 'form' | 'none';
  readonly scope: string | null;
  readonly status: number;
  /** The OAuth error, when refused. */
  readonly error: string | null;
}

export interface OAuthServer {
  readonly issuer: string;
  readonly tokenUrl: string;
  readonly requests: TokenRequestRecord[];
  /** Whether `token` is an access token this server issued and has not expired or revoked. */
  isActive(token: string): Promise<boolean>;
  /** Revokes an issued token (a server-side invalidation the client cannot see coming). */
  revoke(token: string): Promise<void>;
  close(): Promise<void>;
}

/** Every scope the provider knows: ud-bridge's, plus one it knows but grants nobody. */
export const KNOWN_SCOPES = [...CONNECT_SCOPES, 'publicapi:user:delete'] as const;

/**
 * Storage for the provider's models, one map per server: the built-in one does the same but warns
 * on every start. Expiry is the provider's to judge (it checks `exp` itself).
 */
function memoryAdapter(): AdapterFactory {
  const store = new Map<string, AdapterPayload>();
  return (name) => {
    const key = (id: string) => `${name}:${id}`;
    return {
      async upsert(id, payload) { store.set(key(id), payload); },
      async find(id) { return store.get(key(id)); },
      async findByUserCode() { return undefined; },
      async findByUid() { return undefined; },
      async consume(id) { const p = store.get(key(id)); if (p) p.consumed = Math.floor(Date.now() / 1000); },
      async destroy(id) { store.delete(key(id)); },
      async revokeByGrantId(grantId) { for (const [k, p] of store) if (p.grantId === grantId) store.delete(k); },
    };
  };
}

function trackSockets(server: Server): () => void {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return () => { for (const s of sockets) s.destroy(); };
}

export async function startOAuthServer(options: { clients: readonly OAuthClientSpec[]; tokenTtlSeconds?: number }): Promise<OAuthServer> {
  const server = createServer();
  const destroySockets = trackSockets(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Own signing keys: the provider's development keys come with a warning on every start.
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: c.auth === 'basic' ? 'client_secret_basic' : 'client_secret_post',
      scope: c.scopes.join(' '),
    })),
    scopes: [...KNOWN_SCOPES],
    features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
    ttl: { ClientCredentials: options.tokenTtlSeconds ?? 3600 },
    jwks: { keys: [{ ...jwk, use: 'sig', alg: 'RS256', kid: 'test' }] },
    adapter: memoryAdapter(),
  });
  const requests: TokenRequestRecord[] = [];
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path !== '/token') return;
    const params = (ctx.oidc?.params ?? {}) as Record<string, unknown>;
    const body = ctx.body as { error?: unknown } | undefined;
    requests.push({
      auth: /^basic /i.test(ctx.get('authorization')) ? 'basic' : typeof params.client_secret === 'string' ? 'form' : 'none',
      scope: typeof params.scope === 'string' ? params.scope : null,
      status: ctx.status,
      error: typeof body?.error === 'string' ? body.error : null,
    });
  });
  server.on('request', provider.callback());
  return {
    issuer,
    tokenUrl: `${issuer}/token`,
    requests,
    async isActive(token) {
      const t = await provider.ClientCredentials.find(token);
      return t !== undefined && !t.isExpired;
    },
    async revoke(token) {
      await (await provider.ClientCredentials.find(token))?.destroy();
    },
    async close() {
      destroySockets();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface Gateway {
  readonly url: string;
  /** Answers the gateway gave by status: 401 for a token the OAuth server does not vouch for. */
  readonly statuses: number[];
  /** The distinct bearer tokens it was shown, in order. */
  readonly tokens: string[];
  close(): Promise<void>;
}

/**
 * The API as a resource server would guard it: a request whose bearer token the OAuth server does
 * not vouch for gets 401 ERROR_INVALID_TOKEN; any other goes on to the simulator with a simulator
 * token for `simClient`, so its answers are the simulator's own.
 */
export async function startTokenCheckingGateway(oauth: OAuthServer, sim: SimulatorHandle, simClient: { id: string; secret: string }): Promise<Gateway> {
  const simToken = await fetch(`${sim.url}/connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: simClient.id, client_secret: simClient.secret, scope: CONNECT_SCOPES.join(' ') }),
  }).then(async (r) => ((await r.json()) as { access_token: string }).access_token);
  const statuses: number[] = [];
  const tokens: string[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (bearer !== undefined && !tokens.includes(bearer)) tokens.push(bearer);
      if (bearer === undefined || !(await oauth.isActive(bearer))) {
        statuses.push(401);
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error_code: 'ERROR_INVALID_TOKEN' }));
        return;
      }
      const upstream = httpRequest(`${sim.url}${req.url ?? '/'}`, { method: req.method, headers: { ...req.headers, authorization: `Bearer ${simToken}` } }, (up) => {
        statuses.push(up.statusCode ?? 0);
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => { res.writeHead(502); res.end(); });
      req.pipe(upstream);
    })();
  });
  const destroySockets = trackSockets(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    statuses,
    tokens,
    async close() {
      destroySockets();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
