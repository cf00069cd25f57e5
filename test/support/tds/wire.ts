/**
 * Byte-level helpers for the TDS peer: a growable little-endian writer and a bounds-checked reader.
 * TDS mixes LE integers, UCS-2 strings with byte or ushort character counts, and a few BE fields;
 * keeping the primitives here means every token builder reads like the MS-TDS grammar.
 */
export class Writer {
  private readonly parts: Buffer[] = [];
  private size = 0;

  get length(): number {
    return this.size;
  }

  bytes(b: Buffer | readonly number[]): this {
    const buf = Buffer.isBuffer(b) ? b : Buffer.from(b);
    this.parts.push(buf);
    this.size += buf.length;
    return this;
  }

  u8(v: number): this {
    return this.bytes([v & 0xff]);
  }

  u16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v);
    return this.bytes(b);
  }

  u16be(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    return this.bytes(b);
  }

  i16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16LE(v);
    return this.bytes(b);
  }

  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    return this.bytes(b);
  }

  u32be(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    return this.bytes(b);
  }

  i32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    return this.bytes(b);
  }

  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    return this.bytes(b);
  }

  /** B_VARCHAR: a byte count of UTF-16 code units, then UCS-2 (surrogate pairs pass through). */
  bVarchar(s: string): this {
    return this.u8(s.length).bytes(Buffer.from(s, 'utf16le'));
  }

  /** US_VARCHAR: a ushort count of UTF-16 code units, then UCS-2. */
  usVarchar(s: string): this {
    return this.u16(s.length).bytes(Buffer.from(s, 'utf16le'));
  }

  bVarbyte(b: Buffer): this {
    return this.u8(b.length).bytes(b);
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.size);
  }
}

export class Reader {
  offset = 0;
  constructor(readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  private need(n: number, what: string): void {
    if (this.offset + n > this.buf.length) {
      throw new Error(`TDS peer: truncated ${what} at offset ${this.offset} (need ${n}, have ${this.remaining})`);
    }
  }

  u8(): number {
    this.need(1, 'byte');
    return this.buf.readUInt8(this.offset++);
  }

  u16(): number {
    this.need(2, 'ushort');
    const v = this.buf.readUInt16LE(this.offset);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4, 'ulong');
    const v = this.buf.readUInt32LE(this.offset);
    this.offset += 4;
    return v;
  }

  u64(): bigint {
    this.need(8, 'ulonglong');
    const v = this.buf.readBigUInt64LE(this.offset);
    this.offset += 8;
    return v;
  }

  take(n: number): Buffer {
    this.need(n, 'bytes');
    const b = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }

  bVarchar(): string {
    const chars = this.u8();
    return this.take(chars * 2).toString('utf16le');
  }

  usVarchar(): string {
    const chars = this.u16();
    return this.take(chars * 2).toString('utf16le');
  }
}
