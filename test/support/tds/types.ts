/**
 * SQL Server data types on the wire (MS-TDS 2.2.5.4 TYPE_INFO, 2.2.5.5 data): encoding of result
 * columns (server → client) and decoding of RPC parameters (client → server). Only the nullable "N"
 * forms are used, as tedious sends and SQL Server returns for nullable columns.
 */
import { Reader, Writer } from './wire.js';

export type ColumnTypeName =
  | 'tinyint'
  | 'smallint'
  | 'int'
  | 'bigint'
  | 'bit'
  | 'nvarchar'
  | 'varchar'
  | 'uniqueidentifier'
  | 'datetime2'
  | 'datetimeoffset'
  | 'decimal';

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnTypeName;
  /** Default true. */
  readonly nullable?: boolean;
  /** Characters for (n)varchar; `'max'` sends the value as PLP chunks. Default 255. */
  readonly length?: number | 'max';
  /** datetime2/datetimeoffset fractional digits (default 7), decimal scale (default 2). */
  readonly scale?: number;
  /** decimal precision (default 18). */
  readonly precision?: number;
}

/** A JS value for one cell: null, number, bigint, string, boolean or Date (UTC). */
export type CellValue = null | number | bigint | string | boolean | Date;

const TYPE = {
  GUID: 0x24,
  INTN: 0x26,
  DATEN: 0x28,
  TIMEN: 0x29,
  DATETIME2N: 0x2a,
  DATETIMEOFFSETN: 0x2b,
  BITN: 0x68,
  DECIMALN: 0x6a,
  NUMERICN: 0x6c,
  FLTN: 0x6d,
  DATETIMN: 0x6f,
  BIGVARBINARY: 0xa5,
  BIGVARCHAR: 0xa7,
  BIGBINARY: 0xad,
  BIGCHAR: 0xaf,
  NVARCHAR: 0xe7,
  NCHAR: 0xef,
} as const;

/** SQL_Latin1_General_CP1_CI_AS: LCID 0x0409, CI/AS flags, sort id 52 (code page 1252). */
export const DEFAULT_COLLATION = Buffer.from([0x09, 0x04, 0xd0, 0x00, 0x34]);

const PLP_NULL = 0xffffffffffffffffn;
const PLP_UNKNOWN = 0xfffffffffffffffen;
const PLP_CHUNK = 4000;
/** Days from 0001-01-01 to 1970-01-01, the datetime2 date origin. */
const DAYS_TO_EPOCH = 719162;
const MS_PER_DAY = 86_400_000;

const INT_SIZE: Record<string, number> = { tinyint: 1, smallint: 2, int: 4, bigint: 8 };

function timeBytes(scale: number): number {
  return scale <= 2 ? 3 : scale <= 4 ? 4 : 5;
}

function decimalSize(precision: number): number {
  return precision <= 9 ? 5 : precision <= 19 ? 9 : precision <= 28 ? 13 : 17;
}

export function writeTypeInfo(w: Writer, col: ColumnSpec): void {
  switch (col.type) {
    case 'tinyint':
    case 'smallint':
    case 'int':
    case 'bigint':
      w.u8(TYPE.INTN).u8(INT_SIZE[col.type] ?? 4);
      return;
    case 'bit':
      w.u8(TYPE.BITN).u8(1);
      return;
    case 'nvarchar':
    case 'varchar': {
      const len = col.length ?? 255;
      const unit = col.type === 'nvarchar' ? 2 : 1;
      w.u8(col.type === 'nvarchar' ? TYPE.NVARCHAR : TYPE.BIGVARCHAR);
      w.u16(len === 'max' ? 0xffff : len * unit).bytes(DEFAULT_COLLATION);
      return;
    }
    case 'uniqueidentifier':
      w.u8(TYPE.GUID).u8(16);
      return;
    case 'datetime2':
      w.u8(TYPE.DATETIME2N).u8(col.scale ?? 7);
      return;
    case 'datetimeoffset':
      w.u8(TYPE.DATETIMEOFFSETN).u8(col.scale ?? 7);
      return;
    case 'decimal': {
      const precision = col.precision ?? 18;
      w.u8(TYPE.DECIMALN).u8(decimalSize(precision)).u8(precision).u8(col.scale ?? 2);
      return;
    }
  }
}

function guidToBytes(s: string): Buffer {
  const hex = s.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`TDS peer: not a uniqueidentifier: ${s}`);
  const b = Buffer.from(hex, 'hex');
  // The first three groups are little-endian on the wire (MS-TDS 2.2.5.5.1.7).
  return Buffer.concat([b.subarray(0, 4).reverse(), b.subarray(4, 6).reverse(), b.subarray(6, 8).reverse(), b.subarray(8)]);
}

function bytesToGuid(b: Buffer): string {
  const x = Buffer.concat([
    Buffer.from(b.subarray(0, 4)).reverse(),
    Buffer.from(b.subarray(4, 6)).reverse(),
    Buffer.from(b.subarray(6, 8)).reverse(),
    b.subarray(8),
  ]).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`.toUpperCase();
}

function toDate(v: CellValue, col: ColumnSpec): Date {
  if (v instanceof Date) return v;
  if (typeof v === 'string' || typeof v === 'number') return new Date(v);
  throw new Error(`TDS peer: column ${col.name} expects a Date`);
}

function writeTimeAndDate(w: Writer, d: Date, scale: number): void {
  const ms = d.getTime();
  const days = Math.floor(ms / MS_PER_DAY);
  const msOfDay = ms - days * MS_PER_DAY;
  const units = Math.round((msOfDay * 10 ** scale) / 1000);
  const t = Buffer.alloc(timeBytes(scale));
  t.writeUIntLE(units, 0, t.length);
  const dd = Buffer.alloc(3);
  dd.writeUIntLE(days + DAYS_TO_EPOCH, 0, 3);
  w.bytes(t).bytes(dd);
}

function scaledDecimal(v: CellValue, scale: number, col: ColumnSpec): bigint {
  const s = typeof v === 'bigint' ? v.toString() : String(v);
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(s.trim());
  if (!m) throw new Error(`TDS peer: column ${col.name} expects a decimal, got ${s}`);
  const frac = (m[3] ?? '').padEnd(scale, '0').slice(0, scale);
  const mag = BigInt((m[2] || '0') + frac);
  return m[1] === '-' ? -mag : mag;
}

function writePlp(w: Writer, data: Buffer): void {
  w.u64(BigInt(data.length));
  for (let i = 0; i < data.length; i += PLP_CHUNK) {
    const chunk = data.subarray(i, i + PLP_CHUNK);
    w.u32(chunk.length).bytes(chunk);
  }
  w.u32(0);
}

export function writeValue(w: Writer, col: ColumnSpec, v: CellValue | undefined): void {
  const isNull = v === null || v === undefined;
  if (isNull && col.nullable === false) throw new Error(`TDS peer: column ${col.name} is NOT NULL but the fixture has null`);
  switch (col.type) {
    case 'tinyint':
    case 'smallint':
    case 'int':
    case 'bigint': {
      if (isNull) return void w.u8(0);
      const size = INT_SIZE[col.type] ?? 4;
      const b = Buffer.alloc(size);
      if (size === 8) b.writeBigInt64LE(BigInt(v as number | bigint | string));
      else if (size === 1) b.writeUInt8(Number(v));
      else b.writeIntLE(Number(v), 0, size);
      w.u8(size).bytes(b);
      return;
    }
    case 'bit':
      if (isNull) return void w.u8(0);
      w.u8(1).u8(v === true || v === 1 || v === '1' ? 1 : 0);
      return;
    case 'nvarchar':
    case 'varchar': {
      const max = col.length === 'max';
      if (isNull) {
        if (max) w.u64(PLP_NULL);
        else w.u16(0xffff);
        return;
      }
      const data = Buffer.from(String(v), col.type === 'nvarchar' ? 'utf16le' : 'latin1');
      if (max) writePlp(w, data);
      else w.u16(data.length).bytes(data);
      return;
    }
    case 'uniqueidentifier':
      if (isNull) return void w.u8(0);
      w.u8(16).bytes(guidToBytes(String(v)));
      return;
    case 'datetime2': {
      if (isNull) return void w.u8(0);
      const scale = col.scale ?? 7;
      w.u8(timeBytes(scale) + 3);
      writeTimeAndDate(w, toDate(v, col), scale);
      return;
    }
    case 'datetimeoffset': {
      if (isNull) return void w.u8(0);
      const scale = col.scale ?? 7;
      // Sent in UTC with offset 0: the instant is what the reader compares.
      w.u8(timeBytes(scale) + 5);
      writeTimeAndDate(w, toDate(v, col), scale);
      w.i16(0);
      return;
    }
    case 'decimal': {
      if (isNull) return void w.u8(0);
      const precision = col.precision ?? 18;
      const size = decimalSize(precision);
      const n = scaledDecimal(v, col.scale ?? 2, col);
      const mag = n < 0n ? -n : n;
      const b = Buffer.alloc(size - 1);
      let rest = mag;
      for (let i = 0; i < b.length; i++) {
        b[i] = Number(rest & 0xffn);
        rest >>= 8n;
      }
      w.u8(size).u8(n < 0n ? 0 : 1).bytes(b);
      return;
    }
  }
}

/** A decoded RPC parameter: the SQL type name as tedious declared it on the wire, and its value. */
export interface DecodedParam {
  readonly type: string;
  /** int/bit/float → number|boolean; bigint/decimal → string; guid → upper-case string; dates → Date. */
  readonly value: null | number | string | boolean | Date | Buffer;
}

function readPlp(r: Reader): Buffer | null {
  const total = r.u64();
  if (total === PLP_NULL) return null;
  const parts: Buffer[] = [];
  for (;;) {
    const n = r.u32();
    if (n === 0) break;
    parts.push(r.take(n));
  }
  const data = Buffer.concat(parts);
  if (total !== PLP_UNKNOWN && BigInt(data.length) !== total) {
    throw new Error(`TDS peer: PLP length ${data.length} does not match declared ${total}`);
  }
  return data;
}

function readTimeAndDate(r: Reader, scale: number): { days: number; ms: number } {
  const units = r.take(timeBytes(scale)).readUIntLE(0, timeBytes(scale));
  const days = r.take(3).readUIntLE(0, 3) - DAYS_TO_EPOCH;
  return { days, ms: Math.floor((units * 1000) / 10 ** scale) };
}

/** Reads TYPE_INFO and then the value of one RPC parameter (MS-TDS 2.2.6.6 ParamData). */
export function readParam(r: Reader): DecodedParam {
  const id = r.u8();
  switch (id) {
    case TYPE.INTN: {
      const size = r.u8();
      const len = r.u8();
      const type = size === 1 ? 'tinyint' : size === 2 ? 'smallint' : size === 8 ? 'bigint' : 'int';
      if (len === 0) return { type, value: null };
      const b = r.take(len);
      if (len === 8) return { type, value: b.readBigInt64LE().toString() };
      return { type, value: len === 1 ? b.readUInt8() : b.readIntLE(0, len) };
    }
    case TYPE.BITN: {
      r.u8();
      const len = r.u8();
      return { type: 'bit', value: len === 0 ? null : r.u8() === 1 };
    }
    case TYPE.FLTN: {
      r.u8();
      const len = r.u8();
      if (len === 0) return { type: 'float', value: null };
      const b = r.take(len);
      return { type: 'float', value: len === 4 ? b.readFloatLE() : b.readDoubleLE() };
    }
    case TYPE.GUID: {
      r.u8();
      const len = r.u8();
      return { type: 'uniqueidentifier', value: len === 0 ? null : bytesToGuid(r.take(16)) };
    }
    case TYPE.DECIMALN:
    case TYPE.NUMERICN: {
      r.u8();
      r.u8();
      const scale = r.u8();
      const len = r.u8();
      if (len === 0) return { type: 'decimal', value: null };
      const sign = r.u8();
      const b = r.take(len - 1);
      let mag = 0n;
      for (let i = b.length - 1; i >= 0; i--) mag = (mag << 8n) | BigInt(b[i] ?? 0);
      const digits = mag.toString().padStart(scale + 1, '0');
      const text = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
      return { type: 'decimal', value: sign === 0 ? `-${text}` : text };
    }
    case TYPE.DATETIME2N:
    case TYPE.DATETIMEOFFSETN: {
      const scale = r.u8();
      const len = r.u8();
      const type = id === TYPE.DATETIME2N ? 'datetime2' : 'datetimeoffset';
      if (len === 0) return { type, value: null };
      const { days, ms } = readTimeAndDate(r, scale);
      // datetimeoffset carries UTC time and date, then the offset (not needed for the instant).
      if (id === TYPE.DATETIMEOFFSETN) r.take(2);
      return { type, value: new Date(days * MS_PER_DAY + ms) };
    }
    case TYPE.DATEN: {
      const len = r.u8();
      if (len === 0) return { type: 'date', value: null };
      return { type: 'date', value: new Date((r.take(3).readUIntLE(0, 3) - DAYS_TO_EPOCH) * MS_PER_DAY) };
    }
    case TYPE.TIMEN: {
      const scale = r.u8();
      const len = r.u8();
      if (len === 0) return { type: 'time', value: null };
      const units = r.take(len).readUIntLE(0, len);
      return { type: 'time', value: new Date(Math.floor((units * 1000) / 10 ** scale)) };
    }
    case TYPE.DATETIMN: {
      r.u8();
      const len = r.u8();
      if (len === 0) return { type: 'datetime', value: null };
      const days = r.take(4).readInt32LE();
      const ticks = r.take(4).readUInt32LE();
      const epoch1900 = Date.UTC(1900, 0, 1);
      return { type: 'datetime', value: new Date(epoch1900 + days * MS_PER_DAY + Math.round((ticks * 10) / 3)) };
    }
    case TYPE.NVARCHAR:
    case TYPE.NCHAR:
    case TYPE.BIGVARCHAR:
    case TYPE.BIGCHAR:
    case TYPE.BIGVARBINARY:
    case TYPE.BIGBINARY: {
      const maxLen = r.u16();
      const binary = id === TYPE.BIGVARBINARY || id === TYPE.BIGBINARY;
      if (!binary) r.take(5);
      const unicode = id === TYPE.NVARCHAR || id === TYPE.NCHAR;
      const base = unicode ? 'nvarchar' : binary ? 'varbinary' : 'varchar';
      const type = maxLen === 0xffff ? `${base}(max)` : base;
      let data: Buffer | null;
      if (maxLen === 0xffff) data = readPlp(r);
      else {
        const len = r.u16();
        data = len === 0xffff ? null : r.take(len);
      }
      if (data === null) return { type, value: null };
      if (binary) return { type, value: Buffer.from(data) };
      return { type, value: data.toString(unicode ? 'utf16le' : 'latin1') };
    }
    default:
      throw new Error(`TDS peer: parameter type 0x${id.toString(16)} is not supported`);
  }
}
