/** Serializes messages to bytes with a byte-accurate Content-Length (RFC 3261 §7.4.1, §20.14). */
import { type SipMessage, SipRequest, type SipResponse } from './message.js';

/** The wire bytes of a message. Content-Length is always rewritten to the body's byte length. */
export function serializeMessage(msg: SipMessage): Buffer {
  let out =
    msg instanceof SipRequest
      ? `${msg.method} ${msg.uri} SIP/2.0\r\n`
      : `SIP/2.0 ${(msg as SipResponse).status} ${(msg as SipResponse).reason}\r\n`;
  for (const h of msg.headers) {
    if (h.key === 'content-length') continue;
    out += `${h.name}: ${h.value}\r\n`;
  }
  const body = msg.body;
  out += `Content-Length: ${body.length}\r\n\r\n`;
  if (body.length === 0) return Buffer.from(out, 'utf8');
  // One allocation for head and body.
  const headLength = Buffer.byteLength(out, 'utf8');
  const wire = Buffer.allocUnsafe(headLength + body.length);
  wire.write(out, 0, 'utf8');
  body.copy(wire, headLength);
  return wire;
}
