/**
 * An in-process TDS 7.4 peer for driver-level tests: the real mssql/tedious client connects to it
 * on 127.0.0.1 and gets the fixtures a test's handler returns. It is a protocol peer, not a
 * database: it never parses SQL beyond recognising the driver's own housekeeping statements.
 */
import net, { type Socket } from 'node:net';
import { MessageReader, MessageWriter, PACKET, SocketGone, type Message } from './message-io.js';
import { type Login7, parseLogin7, parseRpc, parseSqlBatch } from './requests.js';
import {
  DONE_STATUS,
  type ErrorSpec,
  type RowFixture,
  colMetadata,
  done,
  doneInProc,
  doneProc,
  envChangeCollation,
  envChangeString,
  errorToken,
  loginAck,
  preloginResponse,
  returnStatus,
  row,
} from './tokens.js';
import type { ColumnSpec, DecodedParam } from './types.js';
import { TdsTlsServer } from './tls.js';

export interface ResultSetFixture {
  readonly columns: readonly ColumnSpec[];
  readonly rows: Iterable<RowFixture>;
  /** Destroy the socket after this many rows of this result (the rest never arrives). */
  readonly dropAfterRows?: number;
}
export type Fixture =
  | ResultSetFixture
  | { readonly error: ErrorSpec }
  | { readonly hang: true }
  | { readonly rowsAffected: number };

export interface TdsRequest {
  readonly kind: 'batch' | 'rpc';
  readonly sql: string;
  /** sp_executesql's user parameters by name (without `@`), decoded. */
  readonly params: Readonly<Record<string, DecodedParam['value']>>;
  /** The SQL type tedious declared for each parameter on the wire. */
  readonly paramTypes: Readonly<Record<string, string>>;
}
export interface RecordedRequest extends TdsRequest {
  readonly connection: number;
  readonly procId?: number;
  /** The `@params` declaration sp_executesql received, e.g. `@key nvarchar(4000), @id uniqueidentifier`. */
  readonly declaration?: string;
}

export type TdsHandler = (req: TdsRequest) => Fixture | readonly Fixture[] | void | Promise<Fixture | readonly Fixture[] | void>;

export interface TdsServerOptions {
  readonly handler: TdsHandler;
  /**
   * When set, LOGIN7 must carry exactly these credentials, else error 18456 as SQL Server sends it
   * (or with `failureMessage`'s text: a hostile server may echo what it was sent).
   */
  readonly login?: { readonly user: string; readonly password: string; readonly failureMessage?: (login: Login7) => string };
  /**
   * What the PRELOGIN answer says about encryption. `not-supported` (the default) is what an old
   * or hostile server says; `on` then does the TLS handshake (a test certificate for localhost).
   */
  readonly encryption?: 'not-supported' | 'on';
}

export interface TdsServer {
  readonly port: number;
  readonly requests: RecordedRequest[];
  readonly logins: Login7[];
  /** Per login, in order: whether it arrived inside TLS or in clear text. */
  readonly loginTransports: ('tls' | 'clear')[];
  /** How many TCP connections were accepted so far. */
  connections(): number;
  /** The next result set of at least `n` rows, on any connection, is cut after `n` rows by destroying the socket. */
  dropNextConnectionAfterRows(n: number): void;
  close(): Promise<void>;
}

interface DropPlan {
  at(fixture: ResultSetFixture): number | undefined;
  fired(fixture: ResultSetFixture): void;
}

const HOUSEKEEPING = [/^\s*select\s+1\s*;?\s*$/i, /^\s*set\s+/i, /^\s*select\s+@@version/i];

export async function startTdsServer(options: TdsServerOptions): Promise<TdsServer> {
  const sockets = new Set<Socket>();
  const requests: RecordedRequest[] = [];
  const logins: Login7[] = [];
  const loginTransports: ('tls' | 'clear')[] = [];
  let accepted = 0;
  let dropNext: number | undefined;

  // The armed drop stays armed until a result set is long enough to be cut by it.
  const dropPlan: DropPlan = {
    at: (fixture) => fixture.dropAfterRows ?? dropNext,
    fired: (fixture) => {
      if (fixture.dropAfterRows === undefined) dropNext = undefined;
    },
  };

  const server = net.createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    new Connection(accepted, socket, options, requests, logins, dropPlan, loginTransports).start();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('TDS peer: no TCP address');

  return {
    port: address.port,
    requests,
    logins,
    loginTransports,
    connections: () => accepted,
    dropNextConnectionAfterRows(n) {
      dropNext = n;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

class Connection {
  private packetSize = 4096;
  private queue: Promise<void> = Promise.resolve();
  private busy = false;
  private attention: (() => void) | undefined;
  private cancelled = false;
  private housekeeping = false;
  /** The TLS handshake in progress, then the TLS session: TDS packets go through its cleartext side. */
  private tls: TdsTlsServer | undefined;
  private io: Socket;

  constructor(
    private readonly id: number,
    private readonly socket: Socket,
    private readonly options: TdsServerOptions,
    private readonly requests: RecordedRequest[],
    private readonly logins: Login7[],
    private readonly drops: DropPlan,
    private readonly loginTransports: ('tls' | 'clear')[],
  ) {
    this.io = socket;
  }

  private reader = new MessageReader((m) => this.onMessage(m));

  private read(chunk: Buffer): void {
    try {
      this.reader.push(chunk);
    } catch {
      this.socket.destroy();
    }
  }

  start(): void {
    this.socket.on('data', (chunk: Buffer) => {
      // Once TLS is up the socket carries records, which the TLS session reads.
      if (this.tls?.complete) return;
      this.read(chunk);
    });
    this.socket.on('close', () => this.attention?.());
  }

  private onMessage(m: Message): void {
    // ATTENTION overtakes the queue: it cancels what is running now.
    if (m.type === PACKET.ATTENTION) {
      if (this.busy) {
        this.cancelled = true;
        this.attention?.();
      } else {
        this.queue = this.queue.then(() => this.ackAttention());
      }
      return;
    }
    this.queue = this.queue.then(() => this.dispatch(m)).catch((e: unknown) => {
      if (!(e instanceof SocketGone)) this.socket.destroy();
    });
  }

  private async ackAttention(): Promise<void> {
    const w = this.writer();
    await w.push(done(DONE_STATUS.ATTN));
    await w.end();
  }

  private writer(): MessageWriter {
    return new MessageWriter(this.io, this.packetSize);
  }

  /** One step of the TLS handshake: the client's flight in a PRELOGIN message, the answer in another. */
  private async handshake(tls: TdsTlsServer, payload: Buffer): Promise<void> {
    const answer = await tls.flight(payload);
    const w = new MessageWriter(this.socket, this.packetSize, PACKET.PRELOGIN);
    if (tls.complete) {
      // From the next byte on, the client speaks TLS records: switch before it can answer.
      tls.attach(this.socket);
      tls.cleartext.on('data', (chunk: Buffer) => this.read(chunk));
      this.io = tls.cleartext;
    }
    await w.push(answer);
    return w.end();
  }

  private async dispatch(m: Message): Promise<void> {
    switch (m.type) {
      case PACKET.PRELOGIN: {
        if (this.tls !== undefined) return this.handshake(this.tls, m.payload);
        const w = this.writer();
        const on = this.options.encryption === 'on';
        await w.push(preloginResponse(on ? 'on' : 'not-supported'));
        await w.end();
        if (on) this.tls = new TdsTlsServer();
        return;
      }
      case PACKET.LOGIN7:
        return this.login(parseLogin7(m.payload));
      case PACKET.SQL_BATCH:
        return this.serve('batch', { kind: 'batch', sql: parseSqlBatch(m.payload), params: {}, paramTypes: {} });
      case PACKET.RPC: {
        const call = parseRpc(m.payload);
        const [statement, declaration, ...rest] = call.params;
        const params: Record<string, DecodedParam['value']> = {};
        const paramTypes: Record<string, string> = {};
        for (const p of rest) {
          params[p.name] = p.value;
          paramTypes[p.name] = p.type;
        }
        const sql = call.procId === 10 ? String(statement?.value ?? '') : `EXEC ${call.procName ?? call.procId}`;
        return this.serve('rpc', { kind: 'rpc', sql, params, paramTypes }, call.procId, declaration?.value as string | undefined);
      }
      default: {
        const w = this.writer();
        await w.push(errorToken({ number: 50000, message: `TDS peer: packet type 0x${m.type.toString(16)} is not supported` }));
        await w.push(done(DONE_STATUS.ERROR));
        return w.end();
      }
    }
  }

  private async login(login: Login7): Promise<void> {
    this.logins.push(login);
    this.loginTransports.push(this.tls?.complete ? 'tls' : 'clear');
    const w = this.writer();
    const expected = this.options.login;
    if (expected && (expected.user !== login.user || expected.password !== login.password)) {
      await w.push(errorToken({ number: 18456, state: 1, class: 14, message: expected.failureMessage?.(login) ?? `Login failed for user '${login.user}'.` }));
      await w.push(done(DONE_STATUS.ERROR));
      await w.end();
      this.socket.end();
      return;
    }
    this.packetSize = Math.max(512, Math.min(login.packetSize || 4096, 32767));
    await w.push(envChangeString(1, login.database || 'master', 'master'));
    await w.push(envChangeCollation());
    await w.push(envChangeString(2, 'us_english'));
    await w.push(loginAck());
    await w.push(envChangeString(4, String(this.packetSize), '4096'));
    await w.push(done(DONE_STATUS.FINAL));
    await w.end();
  }

  private async serve(kind: 'batch' | 'rpc', req: TdsRequest, procId?: number, declaration?: string): Promise<void> {
    this.busy = true;
    this.cancelled = false;
    const w = this.writer();
    try {
      let fixtures: readonly Fixture[];
      this.housekeeping = HOUSEKEEPING.some((re) => re.test(req.sql));
      if (this.housekeeping) {
        fixtures = /select\s+1/i.test(req.sql) ? [{ columns: [{ name: '', type: 'int' }], rows: [[1]] }] : [];
      } else {
        this.requests.push({ ...req, connection: this.id, ...(procId === undefined ? {} : { procId }), ...(declaration === undefined ? {} : { declaration }) });
        try {
          const out = await this.options.handler(req);
          fixtures = out === undefined ? [] : Array.isArray(out) ? (out as readonly Fixture[]) : [out as Fixture];
        } catch (e) {
          fixtures = [{ error: { number: 50000, message: e instanceof Error ? e.message : String(e) } }];
        }
      }
      const more = kind === 'rpc' ? doneInProc : done;
      let failed = false;
      for (const f of fixtures) {
        if ('hang' in f) {
          await new Promise<void>((resolve) => (this.attention = resolve));
          break;
        }
        if ('error' in f) {
          failed = true;
          await w.push(errorToken(f.error));
          await w.push(more(DONE_STATUS.ERROR | DONE_STATUS.MORE));
          continue;
        }
        if ('rowsAffected' in f) {
          await w.push(more(DONE_STATUS.COUNT | DONE_STATUS.MORE, f.rowsAffected));
          continue;
        }
        const count = await this.streamRows(w, f);
        if (count === 'dropped' || this.cancelled) break;
        await w.push(more(DONE_STATUS.COUNT | DONE_STATUS.MORE, count));
      }
      if (this.socket.destroyed) return;
      if (this.cancelled) {
        // tedious reads the cancelled request's response to its end, then expects the
        // acknowledgement as the next message (its SENT_ATTENTION state reads exactly one).
        await w.push(done(DONE_STATUS.FINAL));
        await w.end();
        return this.ackAttention();
      } else if (kind === 'rpc') {
        await w.push(returnStatus(failed ? -6 : 0));
        await w.push(doneProc(failed ? DONE_STATUS.ERROR : DONE_STATUS.FINAL));
      } else {
        await w.push(done(failed ? DONE_STATUS.ERROR : DONE_STATUS.FINAL));
      }
      await w.end();
    } finally {
      this.busy = false;
      this.attention = undefined;
    }
  }

  private async streamRows(w: MessageWriter, f: ResultSetFixture): Promise<number | 'dropped'> {
    // The driver's own SELECT 1 must not be cut by a drop meant for the test's query.
    const dropAt = this.housekeeping ? undefined : this.drops.at(f);
    await w.push(colMetadata(f.columns));
    let n = 0;
    for (const values of f.rows) {
      if (dropAt !== undefined && n >= dropAt) return this.drop(w, f);
      if (this.cancelled) return n;
      await w.push(row(f.columns, values));
      n += 1;
    }
    if (dropAt !== undefined && n >= dropAt) return this.drop(w, f);
    return n;
  }

  private async drop(w: MessageWriter, f: ResultSetFixture): Promise<'dropped'> {
    this.drops.fired(f);
    await w.flushPartial();
    this.socket.destroy();
    return 'dropped';
  }
}
