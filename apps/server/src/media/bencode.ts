/**
 * Bencode (the encoding of rtpengine's ng protocol): byte strings `4:spam`, integers `i42e`,
 * lists `l...e`, dictionaries `d...e` with keys sorted as raw bytes. Strings decode as UTF-8
 * text (SDP and ng keys are text). Decoding is bounded: hostile input gets a MediaError.
 */
import { MediaError } from './media-error.js';

/** A bencodable value. Booleans encode as the strings rtpengine expects (`yes`/`no`). */
export type BValue = string | number | boolean | Buffer | BValue[] | { [key: string]: BValue | undefined };

/** A decoded value: strings, integers, lists and dictionaries. */
export type BDecoded = string | number | BDecoded[] | { [key: string]: BDecoded };

const MAX_DEPTH = 32;

/** Encodes a value; `undefined` dictionary entries are left out. */
export function bencode(value: BValue): Buffer {
  const parts: Buffer[] = [];
  write(value, parts, 0);
  return Buffer.concat(parts);
}

function write(v: BValue, out: Buffer[], depth: number): void {
  if (depth > MAX_DEPTH) throw new MediaError('BENCODE', 'value nested too deeply');
  if (typeof v === 'string' || Buffer.isBuffer(v)) {
    const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    out.push(Buffer.from(`${b.length}:`), b);
  } else if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new MediaError('BENCODE', `not an integer: ${v}`);
    out.push(Buffer.from(`i${v}e`));
  } else if (typeof v === 'boolean') {
    write(v ? 'yes' : 'no', out, depth);
  } else if (Array.isArray(v)) {
    out.push(Buffer.from('l'));
    for (const item of v) write(item, out, depth + 1);
    out.push(Buffer.from('e'));
  } else {
    out.push(Buffer.from('d'));
    // Keys sorted as raw strings (BEP 3); rtpengine accepts any order, but a canonical form is cheap.
    for (const key of Object.keys(v).sort()) {
      const item = v[key];
      if (item === undefined) continue;
      write(key, out, depth + 1);
      write(item, out, depth + 1);
    }
    out.push(Buffer.from('e'));
  }
}

/** Decodes one whole value; trailing bytes, bad lengths and deep nesting are errors. */
export function bdecode(data: Buffer): BDecoded {
  const state = { pos: 0 };
  const v = read(data, state, 0);
  if (state.pos !== data.length) throw new MediaError('BENCODE', `trailing bytes at ${state.pos}`);
  return v;
}

function read(data: Buffer, s: { pos: number }, depth: number): BDecoded {
  if (depth > MAX_DEPTH) throw new MediaError('BENCODE', 'nested too deeply');
  const c = data[s.pos];
  if (c === undefined) throw new MediaError('BENCODE', 'unexpected end');
  if (c === 0x69 /* i */) {
    const end = data.indexOf(0x65 /* e */, s.pos + 1);
    const text = end < 0 ? '' : data.toString('latin1', s.pos + 1, end);
    if (!/^(0|-?[1-9]\d{0,15})$/.test(text)) throw new MediaError('BENCODE', `bad integer at ${s.pos}`);
    s.pos = end + 1;
    return Number(text);
  }
  if (c === 0x6c /* l */) {
    s.pos++;
    const list: BDecoded[] = [];
    while (data[s.pos] !== 0x65) list.push(read(data, s, depth + 1));
    s.pos++;
    return list;
  }
  if (c === 0x64 /* d */) {
    s.pos++;
    const dict: { [key: string]: BDecoded } = Object.create(null) as { [key: string]: BDecoded };
    while (data[s.pos] !== 0x65) {
      const key = read(data, s, depth + 1);
      if (typeof key !== 'string') throw new MediaError('BENCODE', 'dictionary key is not a string');
      dict[key] = read(data, s, depth + 1);
    }
    s.pos++;
    return dict;
  }
  if (c >= 0x30 && c <= 0x39) {
    const colon = data.indexOf(0x3a /* : */, s.pos);
    const lenText = colon < 0 ? '' : data.toString('latin1', s.pos, colon);
    if (!/^(0|[1-9]\d{0,9})$/.test(lenText)) throw new MediaError('BENCODE', `bad string length at ${s.pos}`);
    const len = Number(lenText);
    const start = colon + 1;
    if (start + len > data.length) throw new MediaError('BENCODE', 'string runs past the end');
    s.pos = start + len;
    return data.toString('utf8', start, start + len);
  }
  throw new MediaError('BENCODE', `unexpected byte 0x${c.toString(16)} at ${s.pos}`);
}
