/** Netstring framing (`<len>:<bytes>,`) as spoken by baresip's ctrl_tcp module. */

/** Encodes one payload as a netstring. */
export function encodeNetstring(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]);
}

/** Splits a byte stream into netstring payloads, across split and coalesced reads. */
export class NetstringDecoder {
  private buf = Buffer.alloc(0);

  /** Adds bytes; returns every payload completed by them. Throws on a malformed frame. */
  push(chunk: Buffer): string[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: string[] = [];
    for (;;) {
      const colon = this.buf.indexOf(0x3a);
      if (colon < 0) {
        if (this.buf.length > 12) throw new Error('netstring: length prefix too long');
        return out;
      }
      const len = Number(this.buf.subarray(0, colon).toString('latin1'));
      if (!Number.isInteger(len) || len < 0) throw new Error('netstring: bad length prefix');
      const end = colon + 1 + len;
      if (this.buf.length < end + 1) return out;
      if (this.buf[end] !== 0x2c) throw new Error('netstring: missing trailing comma');
      out.push(this.buf.subarray(colon + 1, end).toString('utf8'));
      this.buf = this.buf.subarray(end + 1);
    }
  }
}
