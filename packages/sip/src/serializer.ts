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
  out += `Content-Length: ${msg.body.length}\r\n\r\n`;
  if (msg.body.length === 0) return Buffer.from(out, 'utf8');
  const head = Buffer.from(out, 'utf8');
  return Buffer.concat([head, msg.body], head.length + msg.body.length);
}
