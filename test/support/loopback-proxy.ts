/**
 * A real HTTP proxy on 127.0.0.1:0 for the network tests: the npm `proxy` package (the server its
 * CLI runs), optionally requiring Basic credentials. It records every CONNECT tunnel it is asked
 * for (target, credentials offered, whether they were accepted) and, for plain-HTTP traffic inside
 * a tunnel, every request line that passes, so a test sees which calls went through it.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createProxy } from 'proxy';

export interface TunnelRecord {
  /** `host:port` asked for. */
  readonly target: string;
  /** The decoded `user:password` of Proxy-Authorization, or null when none was sent. */
  readonly credentials: string | null;
  readonly accepted: boolean;
}

export interface TunnelledRequest {
  readonly target: string;
  readonly method: string;
  readonly path: string;
}

export interface LoopbackProxy {
  readonly url: string;
  readonly tunnels: TunnelRecord[];
  /** Request lines seen inside tunnels (plain HTTP only; TLS inside a tunnel is opaque). */
  readonly requests: TunnelledRequest[];
  close(): Promise<void>;
}

function credentialsOf(req: IncomingMessage): string | null {
  const header = req.headers['proxy-authorization'];
  if (typeof header !== 'string' || !header.startsWith('Basic ')) return null;
  return Buffer.from(header.slice(6), 'base64').toString('utf8');
}

/**
 * Follows the client's side of one tunnel as HTTP/1.1: head, Content-Length body, next head.
 * The first bytes of TLS are not a request line: from then on the tunnel is opaque.
 */
function requestReader(onRequest: (method: string, path: string) => void): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  let skip = 0;
  let opaque = false;
  return (chunk) => {
    if (opaque) return;
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (skip > 0) {
        const n = Math.min(skip, buf.length);
        buf = buf.subarray(n);
        skip -= n;
        if (skip > 0) return;
      }
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > 0 && !/^[A-Z]/.test(String.fromCharCode(buf[0]!))) opaque = true;
        return;
      }
      const [line = '', ...headers] = buf.subarray(0, end).toString('latin1').split('\r\n');
      const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(line);
      if (m === null) {
        opaque = true;
        return;
      }
      onRequest(m[1]!, m[2]!);
      const length = headers.map((h) => /^content-length:\s*(\d+)$/i.exec(h)).find((x) => x !== null);
      skip = length ? Number(length[1]) : 0;
      buf = buf.subarray(end + 4);
    }
  };
}

export async function startLoopbackProxy(options: { auth?: { username: string; password: string } } = {}): Promise<LoopbackProxy> {
  const tunnels: TunnelRecord[] = [];
  const requests: TunnelledRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createProxy(createServer());
  const expected = options.auth === undefined ? null : `${options.auth.username}:${options.auth.password}`;
  server.authenticate = (req) => expected === null || credentialsOf(req) === expected;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // Registered after the proxy's own handler: it has paused the socket, this only listens along.
  server.on('connect', (req: IncomingMessage, socket: Socket) => {
    const target = req.url ?? '';
    const credentials = credentialsOf(req);
    tunnels.push({ target, credentials, accepted: expected === null || credentials === expected });
    socket.on('data', requestReader((method, path) => requests.push({ target, method, path })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    requests,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
