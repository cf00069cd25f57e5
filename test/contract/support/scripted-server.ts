/**
 * A tiny real HTTP server on 127.0.0.1:0 for the Connect client's unit tests: each request is
 * recorded and answered by a scripted handler (500 then 200, 429 then 200, a hang, a reset...).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  readonly remotePort: number | undefined;
}

export type Handler = (req: RecordedRequest, res: ServerResponse, index: number) => void | Promise<void>;

export interface ScriptedServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** TCP connections accepted so far (keep-alive shows as fewer connections than requests). */
  readonly connections: number;
  close(): Promise<void>;
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

/** The n-th request gets the n-th handler; the last one answers everything after. */
export function sequence(...handlers: Handler[]): Handler {
  return (req, res, index) => {
    const h = handlers[Math.min(index, handlers.length - 1)];
    if (h === undefined) throw new Error('sequence needs at least one handler');
    return h(req, res, index);
  };
}

export const hang: Handler = () => {};
export const reset: Handler = (_req, res) => { res.socket?.destroy(); };

export async function startScriptedServer(handler: Handler): Promise<ScriptedServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        remotePort: req.socket.remotePort,
      };
      const index = requests.length;
      requests.push(recorded);
      void Promise.resolve(handler(recorded, res, index)).catch((e: unknown) => {
        if (!res.headersSent) json(res, 599, { error_code: 'TEST_HANDLER_FAILED', error_message: String(e) });
      });
    });
  });
  let connections = 0;
  server.on('connection', () => { connections += 1; });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get connections() { return connections; },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
