/**
 * A tiny raw HTTP caller for the simulator's own tests and the chaos suite: it deliberately
 * speaks the wire format (not the ConnectApi client) so the simulator is tested on its own.
 */
import { request } from 'undici';

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  // Tests read arbitrary JSON fields.
  readonly body: any;
}

export async function rawCall(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  const res = await request(url, { method: (init.method ?? 'GET') as 'GET', headers: init.headers, body: init.body });
  const text = await res.body.text();
  let body: unknown = text;
  try {
    body = text.length > 0 ? JSON.parse(text) : null;
  } catch {
    // Keep the raw text: some tests look at non-JSON answers.
  }
  return { status: res.statusCode, headers: res.headers, body };
}

export async function fetchToken(baseUrl: string, clientId: string, secret: string, scope?: string): Promise<string> {
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret });
  if (scope !== undefined) form.set('scope', scope);
  const r = await rawCall(`${baseUrl}/connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  if (r.status !== 200) throw new Error(`token for ${clientId}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.access_token as string;
}

/** Calls the API (paths start with their version, or /v1.0 is assumed) as one client, fetching its token once. */
export class ApiCaller {
  private token: Promise<string> | null = null;

  constructor(
    private readonly baseUrl: string,
    readonly clientId = 'ud-bridge',
    private readonly secret = 'local-dev-secret',
    private readonly scope?: string,
  ) {}

  async call(method: string, path: string, body?: unknown): Promise<RawResponse> {
    this.token ??= fetchToken(this.baseUrl, this.clientId, this.secret, this.scope);
    const headers: Record<string, string> = { authorization: `Bearer ${await this.token}` };
    // PATCH bodies are JSON Patch in the contract; everything else is plain JSON.
    if (body !== undefined) headers['content-type'] = method === 'PATCH' ? 'application/json-patch+json' : 'application/json';
    return rawCall(`${this.baseUrl}${/^\/v\d+\.\d+\//.test(path) ? '' : '/v1.0'}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  }

  get = (path: string): Promise<RawResponse> => this.call('GET', path);
  post = (path: string, body?: unknown): Promise<RawResponse> => this.call('POST', path, body);
  put = (path: string, body?: unknown): Promise<RawResponse> => this.call('PUT', path, body);
  patch = (path: string, body?: unknown): Promise<RawResponse> => this.call('PATCH', path, body);
  delete = (path: string): Promise<RawResponse> => this.call('DELETE', path);
}

export const SEED_IDS = {
  customerTenant: '10000000-0000-4000-8000-000000000001',
  bergenTenant: '10000000-0000-4000-8000-000000000002',
  otherTenant: '10000000-0000-4000-8000-000000000003',
  kari: '20000000-0000-4000-8000-000000000001',
  per: '20000000-0000-4000-8000-000000000002',
  ola: '20000000-0000-4000-8000-000000000003',
} as const;
