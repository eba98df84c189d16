/**
 * Splits a SIP byte stream (TCP, TLS) into whole messages.
 *
 * RFC 3261 §18.3: on a stream the message boundary is the blank line ending the
 * header section plus Content-Length bytes of body, so Content-Length is
 * mandatory. RFC 5626 §4.4.1: a CRLFCRLF between messages is a keep-alive
 * "ping" (answered with one CRLF "pong"); a lone CRLF is a pong and is ignored.
 *
 * State between chunks: at a message boundary (maybe inside a CRLF sequence),
 * inside a header section (not yet terminated), or inside a body (length known).
 * Whole messages inside one chunk are delivered as zero-copy views of it; only a
 * message that straddles chunks is copied, once, into a buffer of its own.
 */

/** Size limits applied while framing. */
export interface StreamFramerLimits {
  /** Largest message (header section + body) in bytes. */
  readonly maxMessageSize: number;
  /** Largest header section (start line through the blank line) in bytes. */
  readonly maxHeaderSize: number;
}

/** Defaults: 64 KiB messages (the largest UDP datagram), 16 KiB of headers. */
export const DEFAULT_STREAM_FRAMER_LIMITS: StreamFramerLimits = {
  maxMessageSize: 65535,
  maxHeaderSize: 16384,
};

/** Why a stream could not be framed; the connection should be closed. */
export type StreamFramingReason =
  | 'header-too-large'
  | 'message-too-large'
  | 'content-length-missing'
  | 'content-length-invalid'
  | 'content-length-conflict'
  | 'stray-bytes';

/** A framing failure: the stream is out of sync and cannot be trusted any more. */
export class StreamFramingError extends Error {
  readonly code = 'SIP_FRAMING_ERROR';
  constructor(
    readonly reason: StreamFramingReason,
    message: string,
    /**
     * The complete header section of the message that broke framing (a Content-Length missing,
     * invalid or conflicting), a copy: enough to answer it 400 on the stream before closing.
     */
    readonly head?: Buffer,
  ) {
    super(message);
    this.name = 'StreamFramingError';
  }
}

/** Receives what the framer finds. Calls are synchronous from `push`; they must not throw. */
export interface StreamFramerHandler {
  /** One complete message: header section and exactly Content-Length bytes of body. */
  onMessage(message: Buffer): void;
  /** A CRLFCRLF keep-alive ping; answer with a single CRLF (RFC 5626 §4.4.1). */
  onPing(): void;
  /** The stream violated framing or a limit; no further data is processed. */
  onError(error: StreamFramingError): void;
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const CONTENT_LENGTH = Buffer.from('content-length', 'latin1');
/** Content-Length values are clamped here; anything above any sane limit is simply "too large". */
const CONTENT_LENGTH_CLAMP = 1_000_000_000;
const CL_MISSING = -1;
const CL_INVALID = -2;
const CL_CONFLICT = -3;

/** Incremental SIP stream framer for one connection. */
export class StreamFramer {
  private readonly limits: StreamFramerLimits;
  /** Bytes of a message that straddles chunks; `null` at a message boundary. */
  private acc: Buffer | null = null;
  private accLen = 0;
  /** Total length of the pending message once its header section is complete, else -1. */
  private expected = -1;
  /** Bytes of CRLFCRLF matched so far at a message boundary (0..3). */
  private keepAlive = 0;
  private failed = false;

  constructor(
    private readonly handler: StreamFramerHandler,
    limits: Partial<StreamFramerLimits> = {},
  ) {
    this.limits = { ...DEFAULT_STREAM_FRAMER_LIMITS, ...limits };
  }

  /** Bytes held for an incomplete message. */
  get buffered(): number {
    return this.accLen;
  }

  /** True after a framing error; later pushes are ignored. */
  get hasFailed(): boolean {
    return this.failed;
  }

  /** Feeds the next chunk read from the stream. */
  push(chunk: Buffer): void {
    if (this.failed) return;
    let pos = 0;
    if (this.accLen > 0) {
      pos = this.continuePending(chunk);
      if (pos < 0) return;
    }
    this.scan(chunk, pos);
  }

  /** Completes the message held in `acc` from the start of `chunk`; returns where the rest begins, or -1 if all was consumed. */
  private continuePending(chunk: Buffer): number {
    const { maxHeaderSize } = this.limits;
    let pos = 0;
    if (this.expected < 0) {
      const headerEnd = this.findStraddlingHeaderEnd(chunk);
      if (headerEnd < 0) {
        if (this.accLen + chunk.length > maxHeaderSize) return this.fail('header-too-large', -1);
        this.append(chunk, 0, chunk.length);
        return -1;
      }
      if (this.accLen + headerEnd > maxHeaderSize) return this.fail('header-too-large', -1);
      this.append(chunk, 0, headerEnd);
      const acc = this.acc as Buffer;
      const total = this.messageLength(acc, 0, this.accLen - 4);
      if (total < 0) return -1;
      this.expected = total;
      pos = headerEnd;
    }
    const need = this.expected - this.accLen;
    if (chunk.length - pos < need) {
      this.append(chunk, pos, chunk.length);
      return -1;
    }
    this.append(chunk, pos, pos + need);
    const message = (this.acc as Buffer).subarray(0, this.expected);
    this.acc = null;
    this.accLen = 0;
    this.expected = -1;
    this.handler.onMessage(message);
    return pos + need;
  }

  /** Frames messages found in `chunk` from `pos`, stashing an incomplete tail. */
  private scan(chunk: Buffer, pos: number): void {
    const len = chunk.length;
    const { maxHeaderSize } = this.limits;
    while (pos < len && !this.failed) {
      if (this.keepAlive !== 0 || chunk[pos] === CR) {
        pos = this.scanKeepAlive(chunk, pos);
        if (pos >= len) return;
      }
      const limit = pos + maxHeaderSize;
      const region = limit >= len ? chunk : chunk.subarray(0, limit);
      const idx = region.indexOf(CRLFCRLF, pos);
      if (idx < 0) {
        if (len - pos >= maxHeaderSize) {
          this.fail('header-too-large', 0);
          return;
        }
        this.append(chunk, pos, len);
        return;
      }
      const total = this.messageLength(chunk, pos, idx);
      if (total < 0) return;
      if (pos + total <= len) {
        const message = chunk.subarray(pos, pos + total);
        pos += total;
        this.handler.onMessage(message);
      } else {
        // The body straddles chunks: size the buffer for the whole message now.
        this.acc = Buffer.allocUnsafe(total);
        chunk.copy(this.acc, 0, pos, len);
        this.accLen = len - pos;
        this.expected = total;
        return;
      }
    }
  }

  /** Consumes CR/LF bytes at a message boundary, reporting pings; returns the first other byte's index. */
  private scanKeepAlive(chunk: Buffer, pos: number): number {
    const len = chunk.length;
    let ka = this.keepAlive;
    while (pos < len) {
      const b = chunk[pos];
      if (b === ((ka & 1) === 0 ? CR : LF)) {
        pos++;
        if (++ka === 4) {
          ka = 0;
          this.handler.onPing();
        }
        continue;
      }
      if (ka === 0) break;
      if (ka === 2) {
        // A lone CRLF: a pong, or a CRLF before a start line (RFC 3261 §7.5); ignored.
        ka = 0;
        continue;
      }
      this.keepAlive = 0;
      return this.fail('stray-bytes', len);
    }
    this.keepAlive = ka;
    return pos;
  }

  /**
   * Finds the end of the header section pending in `acc`, which may straddle
   * into `chunk`; returns the index in `chunk` just past CRLFCRLF, or -1.
   */
  private findStraddlingHeaderEnd(chunk: Buffer): number {
    const acc = this.acc as Buffer;
    const accLen = this.accLen;
    // The terminator may begin in the last 1..3 bytes of acc; the earliest start wins.
    for (let inAcc = 3; inAcc >= 1; inAcc--) {
      const inChunk = 4 - inAcc;
      if (accLen < inAcc || chunk.length < inChunk) continue;
      let ok = true;
      for (let i = 0; i < inAcc && ok; i++) ok = acc[accLen - inAcc + i] === CRLFCRLF[i];
      for (let i = 0; i < inChunk && ok; i++) ok = chunk[i] === CRLFCRLF[inAcc + i];
      if (ok) return inChunk;
    }
    const room = this.limits.maxHeaderSize - accLen;
    const region = room >= chunk.length ? chunk : chunk.subarray(0, Math.max(0, room));
    const idx = region.indexOf(CRLFCRLF);
    return idx < 0 ? -1 : idx + 4;
  }

  /**
   * Validates the header section `buf[start, end)` (end = index of CRLFCRLF) and
   * returns the whole message length, or fails and returns -1.
   */
  private messageLength(buf: Buffer, start: number, end: number): number {
    const headerLen = end + 4 - start;
    if (headerLen > this.limits.maxHeaderSize) return this.fail('header-too-large', -1);
    const contentLength = this.contentLength(buf, start, end);
    if (contentLength < 0) {
      const head = Buffer.from(buf.subarray(start, end + 4));
      if (contentLength === CL_MISSING) return this.fail('content-length-missing', -1, head);
      if (contentLength === CL_INVALID) return this.fail('content-length-invalid', -1, head);
      return this.fail('content-length-conflict', -1, head);
    }
    const total = headerLen + contentLength;
    if (total > this.limits.maxMessageSize) return this.fail('message-too-large', -1);
    return total;
  }

  /**
   * Reads Content-Length (or compact `l`, case-insensitive, RFC 3261 §7.3.3)
   * from the header lines in `buf[start, end)`. Repeated headers must agree.
   */
  private contentLength(buf: Buffer, start: number, end: number): number {
    let found = CL_MISSING;
    let nl = buf.indexOf(LF, start);
    while (nl >= 0 && nl < end) {
      const s = nl + 1;
      nl = buf.indexOf(LF, s);
      const first = (buf[s] as number) | 0x20;
      let p: number;
      if (first === 0x63 /* c */) {
        if (end - s <= CONTENT_LENGTH.length) continue;
        let i = 1;
        while (i < CONTENT_LENGTH.length && ((buf[s + i] as number) | 0x20) === CONTENT_LENGTH[i]) i++;
        if (i < CONTENT_LENGTH.length) continue;
        p = s + CONTENT_LENGTH.length;
      } else if (first === 0x6c /* l */) {
        p = s + 1;
      } else {
        continue;
      }
      while (buf[p] === SP || buf[p] === HTAB) p++;
      if (buf[p] !== COLON) continue;
      const value = readLengthValue(buf, p + 1, end);
      if (value < 0) return CL_INVALID;
      if (found >= 0 && found !== value) return CL_CONFLICT;
      found = value;
    }
    return found;
  }

  /** Appends `src[start, end)` to `acc`, growing it geometrically (bounded by the header limit or the known length). */
  private append(src: Buffer, start: number, end: number): void {
    const need = this.accLen + (end - start);
    let acc = this.acc;
    if (acc === null || acc.length < need) {
      const capacity =
        this.expected >= 0
          ? this.expected
          : Math.min(this.limits.maxHeaderSize, Math.max(need, (acc?.length ?? 0) * 2, 512));
      const grown = Buffer.allocUnsafe(Math.max(capacity, need));
      if (acc !== null) acc.copy(grown, 0, 0, this.accLen);
      this.acc = acc = grown;
    }
    src.copy(acc, this.accLen, start, end);
    this.accLen = need;
  }

  private fail<T extends number>(reason: StreamFramingReason, result: T, head?: Buffer): T {
    this.failed = true;
    this.acc = null;
    this.accLen = 0;
    this.handler.onError(new StreamFramingError(reason, `SIP stream framing failed: ${reason}`, head));
    return result;
  }
}

/**
 * Parses a Content-Length value starting after the colon: optional LWS (with
 * line folding), 1*DIGIT, optional trailing SP/HTAB, then end of line.
 * Returns the value (clamped) or -1.
 */
function readLengthValue(buf: Buffer, p: number, end: number): number {
  for (;;) {
    const b = buf[p];
    if (b === SP || b === HTAB) p++;
    else if (b === CR && buf[p + 1] === LF && p + 2 < end && (buf[p + 2] === SP || buf[p + 2] === HTAB)) p += 3;
    else break;
  }
  let value = 0;
  let digits = 0;
  for (;;) {
    const b = buf[p] as number;
    if (b < 0x30 || b > 0x39 || p >= end) break;
    value = value * 10 + (b - 0x30);
    if (value > CONTENT_LENGTH_CLAMP) value = CONTENT_LENGTH_CLAMP;
    digits++;
    p++;
  }
  if (digits === 0) return -1;
  while (buf[p] === SP || buf[p] === HTAB) p++;
  return buf[p] === CR ? value : -1;
}
