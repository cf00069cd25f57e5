/**
 * TDS packet framing (MS-TDS 2.2.3): an 8-byte header, then up to packetSize - 8 bytes of payload;
 * a message ends at the packet whose status has EOM (0x01). Incoming packets are reassembled into
 * messages; outgoing tokens are split into packets as they are produced so a large result streams
 * with socket backpressure instead of being built in memory.
 */
import type { Socket } from 'node:net';

export const PACKET = { SQL_BATCH: 0x01, RPC: 0x03, TABULAR: 0x04, ATTENTION: 0x06, TM: 0x0e, LOGIN7: 0x10, PRELOGIN: 0x12 } as const;
const HEADER = 8;
const EOM = 0x01;

export interface Message {
  readonly type: number;
  readonly payload: Buffer;
}

/** Feeds socket chunks in, calls `onMessage` once per complete message. */
export class MessageReader {
  private pending: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];

  constructor(private readonly onMessage: (m: Message) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= HEADER) {
      const length = this.pending.readUInt16BE(2);
      if (length < HEADER) throw new Error(`TDS peer: packet length ${length} is shorter than its header`);
      if (this.pending.length < length) return;
      const type = this.pending.readUInt8(0);
      const status = this.pending.readUInt8(1);
      this.parts.push(this.pending.subarray(HEADER, length));
      this.pending = this.pending.subarray(length);
      if ((status & EOM) !== 0) {
        const payload = Buffer.concat(this.parts);
        this.parts = [];
        this.onMessage({ type, payload });
      }
    }
  }
}

/** Writes one response message; `push` tokens, then `end` (EOM) or `abandon` (no EOM, for drops). */
export class MessageWriter {
  private parts: Buffer[] = [];
  private size = 0;
  private packetId = 1;

  constructor(
    private readonly socket: Socket,
    private readonly packetSize: number,
    private readonly type: number = PACKET.TABULAR,
  ) {}

  async push(token: Buffer): Promise<void> {
    this.parts.push(token);
    this.size += token.length;
    const room = this.packetSize - HEADER;
    while (this.size > room) {
      const all = Buffer.concat(this.parts, this.size);
      this.parts = [all.subarray(room)];
      this.size = all.length - room;
      await this.writePacket(all.subarray(0, room), 0);
    }
  }

  async end(): Promise<void> {
    const all = Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    await this.writePacket(all, EOM);
  }

  /** Sends what is buffered as a non-final packet: the client has part of a message when the socket dies. */
  async flushPartial(): Promise<void> {
    if (this.size === 0) return;
    const all = Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    await this.writePacket(all, 0);
  }

  private async writePacket(payload: Buffer, status: number): Promise<void> {
    if (this.socket.destroyed) throw new SocketGone();
    const header = Buffer.alloc(HEADER);
    header.writeUInt8(this.type, 0);
    header.writeUInt8(status, 1);
    header.writeUInt16BE(payload.length + HEADER, 2);
    header.writeUInt16BE(54, 4); // SPID
    header.writeUInt8(this.packetId, 6);
    this.packetId = (this.packetId + 1) % 256;
    const ok = this.socket.write(Buffer.concat([header, payload]));
    if (!ok) await drained(this.socket);
  }
}

/** The client went away while we were writing; the response is simply abandoned. */
export class SocketGone extends Error {
  constructor() {
    super('TDS peer: socket closed');
  }
}

function drained(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      socket.off('drain', onDrain);
      socket.off('close', onClose);
    };
    const onDrain = (): void => {
      done();
      resolve();
    };
    const onClose = (): void => {
      done();
      reject(new SocketGone());
    };
    socket.on('drain', onDrain);
    socket.on('close', onClose);
  });
}
