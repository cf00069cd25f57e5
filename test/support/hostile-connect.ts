/**
 * A hostile Connect in front of a real simulator: a small HTTP server that plays the token
 * endpoint itself (with the test's marker credentials, handing out a marker token) and forwards
 * API calls to the simulator under the simulator's own token. Told to, it answers by echoing the
 * request back — headers, body, the decoded Basic credentials, the bearer token bare — in the
 * error text, as a misconfigured gateway or a hostile server would.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { json, startScriptedServer, type RecordedRequest, type ScriptedServer } from '../contract/support/scripted-server.js';
import type { SimulatorHandle } from '../../src/sim/index.js';

/** A JWT-shaped marker token (Connect's tokens are JWTs), unique enough to grep for. */
export const MARKER_TOKEN = `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: 'ud-bridge', marker: 'TOKEN-5b0d' })).toString('base64url')}.MARKERsig9f31c7`;

export interface HostileMode {
  /** `echo`: the token endpoint refuses every request with the request echoed in its answer. */
  token: 'ok' | 'echo';
  /** API operations (`METHOD /path-prefix`) answered with a 400 that echoes the request. */
  echo: string[];
}

export interface HostileConnect {
  readonly url: string;
  readonly mode: HostileMode;
  /** Requests the API part forwarded or echoed (the token endpoint's are not counted). */
  apiRequests(): number;
  close(): Promise<void>;
}

function echoOf(req: RecordedRequest): string {
  const basic = /^Basic\s+(\S+)/i.exec(req.headers.authorization ?? '')?.[1];
  const decoded = basic === undefined ? '' : Buffer.from(basic, 'base64').toString('utf8');
  return [
    `you sent ${req.method} ${req.url}`,
    `headers=${JSON.stringify(req.headers)}`,
    `authorization: ${req.headers.authorization ?? ''}`,
    `body=${req.body}`,
    decoded === '' ? '' : `credentials ${decoded} and secret ${decodeURIComponent(decoded.slice(decoded.indexOf(':') + 1).replace(/\+/g, ' '))}`,
    `form secret ${new URLSearchParams(req.body).get('client_secret') ?? ''}`,
    req.headers.authorization?.startsWith('Bearer ') ? `token ${req.headers.authorization.slice(7)}` : '',
  ].join(' | ');
}

export async function startHostileConnect(sim: SimulatorHandle, credentials: { clientId: string; clientSecret: string }): Promise<HostileConnect> {
  const mode: HostileMode = { token: 'ok', echo: [] };
  let simToken: string | null = null;
  let api = 0;
  const simTokenOf = async () => {
    if (simToken === null) {
      const res = await fetch(`${sim.url}/connect/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'ud-bridge', client_secret: 'local-dev-secret' }) });
      simToken = ((await res.json()) as { access_token: string }).access_token;
    }
    return simToken;
  };

  const server: ScriptedServer = await startScriptedServer(async (req, res) => {
    if (req.path === '/connect/token') {
      if (mode.token === 'echo') return json(res, 401, { error: 'invalid_client', error_description: echoOf(req) });
      const form = new URLSearchParams(req.body);
      const basic = /^Basic\s+(\S+)/i.exec(req.headers.authorization ?? '')?.[1];
      const [id, secret] = basic === undefined
        ? [form.get('client_id'), form.get('client_secret')]
        : Buffer.from(basic, 'base64').toString('utf8').split(':').map((s) => decodeURIComponent(s.replace(/\+/g, ' ')));
      if (id !== credentials.clientId || secret !== credentials.clientSecret) return json(res, 401, { error: 'invalid_client', error_description: 'wrong client credentials' });
      return json(res, 200, { access_token: MARKER_TOKEN, token_type: 'Bearer', expires_in: 3600, scope: form.get('scope') ?? '' });
    }
    api += 1;
    if (req.headers.authorization !== `Bearer ${MARKER_TOKEN}`) return json(res, 401, { error_code: 'ERROR_INVALID_TOKEN', error_message: 'not the token this endpoint gave out' });
    if (mode.echo.some((e) => `${req.method} ${req.path}`.startsWith(e))) {
      return json(res, 400, { error_code: 'ERROR_VALIDATION', error_message: echoOf(req) });
    }
    const headers: Record<string, string> = { authorization: `Bearer ${await simTokenOf()}`, accept: 'application/json' };
    if (req.headers['content-type']) headers['content-type'] = String(req.headers['content-type']);
    const forwarded = await fetch(`${sim.url}${req.url}`, { method: req.method, headers, ...(req.body === '' ? {} : { body: req.body }) });
    const text = await forwarded.text();
    res.writeHead(forwarded.status, pick(forwarded.headers, ['content-type', 'retry-after']));
    res.end(text);
  });
  return {
    url: server.url,
    mode,
    apiRequests: () => api,
    close: () => server.close(),
  };
}

function pick(headers: Headers, names: string[]): IncomingHttpHeaders {
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = headers.get(n);
    if (v !== null) out[n] = v;
  }
  return out;
}
