/**
 * Server → client tokens (MS-TDS 2.2.7) and the PRELOGIN answer, each returned as one Buffer so
 * the message writer can split them into packets at any byte.
 */
import { type CellValue, type ColumnSpec, DEFAULT_COLLATION, writeTypeInfo, writeValue } from './types.js';
import { Writer } from './wire.js';

export const DONE_STATUS = { FINAL: 0x00, MORE: 0x01, ERROR: 0x02, COUNT: 0x10, ATTN: 0x20 } as const;

const TOKEN = {
  COLMETADATA: 0x81,
  ERROR: 0xaa,
  LOGINACK: 0xad,
  ROW: 0xd1,
  ENVCHANGE: 0xe3,
  RETURNSTATUS: 0x79,
  DONE: 0xfd,
  DONEPROC: 0xfe,
  DONEINPROC: 0xff,
} as const;

/** The answer to PRELOGIN: version 16.0 (SQL Server 2022) and no encryption, so tedious stays in plain TCP. */
export function preloginResponse(encryption: 'not-supported' | 'on' = 'not-supported'): Buffer {
  const options: Array<[number, Buffer]> = [
    [0x00, Buffer.from([16, 0, 0x10, 0x00, 0, 0])],
    [0x01, Buffer.from([encryption === 'on' ? 0x01 : 0x02])], // ENCRYPT_ON or ENCRYPT_NOT_SUP
    [0x02, Buffer.from([0x00])],
    [0x03, Buffer.alloc(0)],
    [0x04, Buffer.from([0x00])],
  ];
  const header = new Writer();
  const data = new Writer();
  let offset = options.length * 5 + 1;
  for (const [token, value] of options) {
    header.u8(token).u16be(offset).u16be(value.length);
    data.bytes(value);
    offset += value.length;
  }
  header.u8(0xff);
  return Buffer.concat([header.toBuffer(), data.toBuffer()]);
}

function withLength(token: number, body: Buffer): Buffer {
  return new Writer().u8(token).u16(body.length).bytes(body).toBuffer();
}

export function envChangeString(type: 1 | 2 | 4, newValue: string, oldValue = ''): Buffer {
  return withLength(TOKEN.ENVCHANGE, new Writer().u8(type).bVarchar(newValue).bVarchar(oldValue).toBuffer());
}

export function envChangeCollation(): Buffer {
  return withLength(TOKEN.ENVCHANGE, new Writer().u8(7).bVarbyte(DEFAULT_COLLATION).u8(0).toBuffer());
}

export function loginAck(): Buffer {
  const body = new Writer()
    .u8(1) // SQL_TSQL
    .u32be(0x74000004) // TDS 7.4
    .bVarchar('Microsoft SQL Server')
    .bytes([16, 0, 0x10, 0x00])
    .toBuffer();
  return withLength(TOKEN.LOGINACK, body);
}

export interface ErrorSpec {
  readonly number: number;
  readonly message: string;
  readonly state?: number;
  readonly class?: number;
  readonly serverName?: string;
  readonly procName?: string;
  readonly lineNumber?: number;
}

export function errorToken(e: ErrorSpec): Buffer {
  const body = new Writer()
    .i32(e.number)
    .u8(e.state ?? 1)
    .u8(e.class ?? 16)
    .usVarchar(e.message)
    .bVarchar(e.serverName ?? 'tds-test')
    .bVarchar(e.procName ?? '')
    .i32(e.lineNumber ?? 1)
    .toBuffer();
  return withLength(TOKEN.ERROR, body);
}

function doneLike(token: number, status: number, rowCount: number, curCmd: number): Buffer {
  return new Writer().u8(token).u16(status).u16(curCmd).u64(BigInt(rowCount)).toBuffer();
}

export function done(status: number, rowCount = 0, curCmd = 0xc1): Buffer {
  return doneLike(TOKEN.DONE, status, rowCount, curCmd);
}

export function doneInProc(status: number, rowCount = 0, curCmd = 0xc1): Buffer {
  return doneLike(TOKEN.DONEINPROC, status, rowCount, curCmd);
}

export function doneProc(status: number, rowCount = 0, curCmd = 0xe0): Buffer {
  return doneLike(TOKEN.DONEPROC, status, rowCount, curCmd);
}

export function returnStatus(value: number): Buffer {
  return new Writer().u8(TOKEN.RETURNSTATUS).i32(value).toBuffer();
}

export function colMetadata(columns: readonly ColumnSpec[]): Buffer {
  const w = new Writer().u8(TOKEN.COLMETADATA).u16(columns.length);
  for (const col of columns) {
    // UserType (ULONG in 7.2+), then flags: nullable (0x01) and "updateable unknown" (0x08).
    w.u32(0).u16((col.nullable === false ? 0 : 0x01) | 0x08);
    writeTypeInfo(w, col);
    w.bVarchar(col.name);
  }
  return w.toBuffer();
}

/** A row as an array in column order, or an object keyed by column name. */
export type RowFixture = readonly CellValue[] | Readonly<Record<string, CellValue>>;

export function row(columns: readonly ColumnSpec[], values: RowFixture): Buffer {
  const w = new Writer().u8(TOKEN.ROW);
  columns.forEach((col, i) => {
    const v = Array.isArray(values) ? values[i] : (values as Record<string, CellValue>)[col.name];
    writeValue(w, col, v);
  });
  return w.toBuffer();
}
