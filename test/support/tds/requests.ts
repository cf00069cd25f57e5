/**
 * Client → server messages: LOGIN7 (MS-TDS 2.2.6.4), SQL batch (2.2.6.7) and RPC (2.2.6.6).
 * Only what a test needs to assert on is decoded: credentials, database, packet size, SQL text and
 * the typed parameters of sp_executesql.
 */
import { type DecodedParam, readParam } from './types.js';
import { Reader } from './wire.js';

export interface Login7 {
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly appName: string;
  readonly packetSize: number;
}

function field(buf: Buffer, at: number): string {
  const offset = buf.readUInt16LE(at);
  const chars = buf.readUInt16LE(at + 2);
  return buf.subarray(offset, offset + chars * 2).toString('utf16le');
}

/** LOGIN7 passwords are obfuscated by swapping nibbles and XOR 0xA5; undo that. */
function unscramble(buf: Buffer, at: number): string {
  const offset = buf.readUInt16LE(at);
  const chars = buf.readUInt16LE(at + 2);
  const raw = Buffer.from(buf.subarray(offset, offset + chars * 2));
  for (let i = 0; i < raw.length; i++) {
    const b = (raw[i] ?? 0) ^ 0xa5;
    raw[i] = ((b & 0x0f) << 4) | (b >> 4);
  }
  return raw.toString('utf16le');
}

export function parseLogin7(buf: Buffer): Login7 {
  return {
    packetSize: buf.readUInt32LE(8),
    user: field(buf, 40),
    password: unscramble(buf, 44),
    appName: field(buf, 48),
    database: field(buf, 68),
  };
}

/** ALL_HEADERS (transaction descriptor etc.) precedes batch and RPC bodies in TDS 7.2+. */
function skipAllHeaders(r: Reader): void {
  const total = r.u32();
  r.take(total - 4);
}

export function parseSqlBatch(buf: Buffer): string {
  const r = new Reader(buf);
  skipAllHeaders(r);
  return r.take(r.remaining).toString('utf16le');
}

export interface RpcCall {
  readonly procId?: number;
  readonly procName?: string;
  /** Parameters in wire order, names without the leading `@` (empty for unnamed). */
  readonly params: ReadonlyArray<{ readonly name: string; readonly output: boolean } & DecodedParam>;
}

export function parseRpc(buf: Buffer): RpcCall {
  const r = new Reader(buf);
  skipAllHeaders(r);
  const nameLen = r.u16();
  let procId: number | undefined;
  let procName: string | undefined;
  if (nameLen === 0xffff) procId = r.u16();
  else procName = r.take(nameLen * 2).toString('utf16le');
  r.u16(); // option flags
  const params: Array<{ name: string; output: boolean } & DecodedParam> = [];
  while (r.remaining > 0) {
    const name = r.bVarchar().replace(/^@/, '');
    const status = r.u8();
    params.push({ name, output: (status & 0x01) !== 0, ...readParam(r) });
  }
  return { ...(procId === undefined ? {} : { procId }), ...(procName === undefined ? {} : { procName }), params };
}
