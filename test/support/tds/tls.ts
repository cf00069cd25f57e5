/**
 * TLS for the TDS test peer, the way SQL Server does it before TDS 8.0 (MS-TDS 3.3.5.2): the
 * PRELOGIN answer says ENCRYPT_ON, the TLS handshake then travels inside PRELOGIN messages (one
 * answer per client flight), and once it is done every byte on the socket is a TLS record carrying
 * the TDS packets. Only TLS 1.2 is served, as tedious offers no more for this mode.
 */
import { Duplex } from 'node:stream';
import tls from 'node:tls';

/** A throwaway self-signed certificate for CN=localhost / 127.0.0.1 (P-256). It protects nothing. */
export const TEST_TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgohera/cs4wXVTLSS
DYHtGEqH4/MqQ6abwZE+GYrEqPKhRANCAASifymmliFJ5vbX2U+Afn3+muc1Cu7X
X6zA3f+Zv8Ojm1BcQqHwypddY7Hp41u2dsFWuNZOtZIwBjAta2OVGoaN
-----END PRIVATE KEY-----
`;
export const TEST_TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBnDCCAUGgAwIBAgIUGoDZEROl+YeuG7F7idjIowPz3HswCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMTEwNTMzOVoYDzIxMjYxMTA3
MTA1MzM5WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASifymmliFJ5vbX2U+Afn3+muc1Cu7XX6zA3f+Zv8Ojm1BcQqHwypdd
Y7Hp41u2dsFWuNZOtZIwBjAta2OVGoaNo28wbTAdBgNVHQ4EFgQUFKFAczbvbzeg
I15zHRzLmVzCL9AwHwYDVR0jBBgwFoAUFKFAczbvbzegI15zHRzLmVzCL9AwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDSQAwRgIhAOioZ90daoQtKabHZ7MkdOEW/Q5PB1ZExe5CmDb/TMb9AiEA
vVGBtHZsyC/WmhoCl3s57z9OEpjFKYNCh3pr+Wf6Vek=
-----END CERTIFICATE-----
`;

/** Two in-memory streams wired to each other: what one is written, the other reads. */
function duplexPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const make = (other: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        other().push(chunk);
        callback();
      },
      final(callback) {
        other().push(null);
        callback();
      },
    });
  sides.push(make(() => sides[1]!), make(() => sides[0]!));
  return [sides[0]!, sides[1]!];
}

const RECORD = { CHANGE_CIPHER_SPEC: 20, HANDSHAKE: 22 } as const;
const SERVER_HELLO_DONE = 14;

/** The server side of one connection's TLS: handshake flights in, then raw records both ways. */
export class TdsTlsServer {
  private readonly encrypted: Duplex;
  /** The plaintext side, once the handshake is done: TDS packets are read from and written to it. */
  readonly cleartext: tls.TLSSocket;
  private pending: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private flights = 0;

  constructor() {
    const [encrypted, inner] = duplexPair();
    this.encrypted = encrypted;
    this.cleartext = new tls.TLSSocket(inner as unknown as import('node:net').Socket, {
      isServer: true,
      secureContext: tls.createSecureContext({ key: TEST_TLS_KEY, cert: TEST_TLS_CERT, maxVersion: 'TLSv1.2' }),
    });
    this.cleartext.on('error', () => undefined);
    this.encrypted.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      this.waiter?.();
    });
  }

  /** Feeds one client flight (a PRELOGIN payload) and resolves with the server's whole answer to it. */
  async flight(clientData: Buffer): Promise<Buffer> {
    this.flights += 1;
    this.encrypted.write(clientData);
    const done = this.flights === 1 ? endsFirstFlight : endsLastFlight;
    while (!done(this.pending)) await new Promise<void>((resolve) => (this.waiter = resolve));
    this.waiter = undefined;
    const answer = this.pending;
    this.pending = Buffer.alloc(0);
    return answer;
  }

  /** After the handshake: the socket's bytes are TLS records, piped straight through. */
  attach(socket: import('node:net').Socket): void {
    this.encrypted.removeAllListeners('data');
    if (this.pending.length > 0) socket.write(this.pending);
    this.encrypted.on('data', (chunk: Buffer) => socket.write(chunk));
    socket.on('data', (chunk: Buffer) => this.encrypted.write(chunk));
  }

  get complete(): boolean {
    return this.flights >= 2;
  }
}

function records(buf: Buffer): { type: number; body: Buffer }[] | null {
  const out: { type: number; body: Buffer }[] = [];
  for (let at = 0; at < buf.length; ) {
    if (buf.length - at < 5) return null;
    const length = buf.readUInt16BE(at + 3);
    if (buf.length - at - 5 < length) return null;
    out.push({ type: buf[at]!, body: buf.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

/** ServerHello … ServerHelloDone: the handshake messages (plaintext here) end with type 14. */
function endsFirstFlight(buf: Buffer): boolean {
  const rs = records(buf);
  if (rs === null) return false;
  const hs = Buffer.concat(rs.filter((r) => r.type === RECORD.HANDSHAKE).map((r) => r.body));
  for (let at = 0; at + 4 <= hs.length; at += 4 + hs.readUIntBE(at + 1, 3)) if (hs[at] === SERVER_HELLO_DONE) return true;
  return false;
}

/** [NewSessionTicket], ChangeCipherSpec, Finished: complete once a handshake record follows the CCS. */
function endsLastFlight(buf: Buffer): boolean {
  const rs = records(buf);
  if (rs === null) return false;
  const ccs = rs.findIndex((r) => r.type === RECORD.CHANGE_CIPHER_SPEC);
  return ccs >= 0 && rs.slice(ccs + 1).some((r) => r.type === RECORD.HANDSHAKE);
}
