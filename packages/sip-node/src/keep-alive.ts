const CR = 0x0d;
const LF = 0x0a;

/** RFC 5626 §4.4.1: the pong answering a CRLFCRLF ping is a single CRLF. */
export const CRLF_PONG: Buffer = Buffer.from('\r\n', 'latin1');

/** True when `data` holds nothing but CR and LF bytes (a keep-alive, not a message). */
export function isCrlfOnly(data: Buffer): boolean {
  for (let i = 0; i < data.length; i++) if (data[i] !== CR && data[i] !== LF) return false;
  return true;
}
