import { createHash } from 'node:crypto';
import { crlf, type RawLocal } from './raw-sip.js';

/** One malformed or hostile input and what a server may do with it. */
export interface HostileCase {
  readonly name: string;
  readonly transports: readonly ('udp' | 'tcp')[];
  /** The bytes; `local.via` is spliced in where the Via itself is not the defect, so a 400 can reach us. */
  readonly build: (local: RawLocal) => Buffer | string;
  /**
   * SIP statuses the server may answer with. Silence (dropped) and, on TCP, closing the connection
   * are always acceptable; 'any' means only "does not crash or hang" is checked.
   */
  readonly allowed: readonly number[] | 'any';
}

const SDP = crlf(`v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.155
s=-
c=IN IP4 192.0.2.155
t=0 0
m=audio 49217 RTP/AVP 0
`);

/** Deterministic pseudo-random bytes (SHA-256 in counter mode), so a failure reproduces. */
function noise(length: number, seed: string): Buffer {
  const chunks: Buffer[] = [];
  for (let i = 0; chunks.length * 32 < length; i++) chunks.push(createHash('sha256').update(`${seed}:${i}`).digest());
  return Buffer.concat(chunks).subarray(0, length);
}

/** An OPTIONS of exactly `size` bytes, padded with one long unknown header. */
function paddedOptions(local: RawLocal, size: number, terminate: boolean): string {
  const head = crlf(`OPTIONS sip:example.test SIP/2.0
Via: ${local.via}
Max-Forwards: 70
From: <sip:big@example.test>;tag=big1
To: <sip:example.test>
Call-ID: oversize-${local.port}@127.0.0.1
CSeq: 1 OPTIONS
Content-Length: 0
X-Padding: `);
  const tailText = terminate ? '\r\n\r\n' : '\r\n';
  return head + 'a'.repeat(Math.max(0, size - head.length - tailText.length)) + tailText;
}

/**
 * Invalid messages from RFC 4475 §3.1.2 and §3.3 (only those the RFC says to reject), with our Via
 * spliced in, plus garbage and oversize input. Kept to the cases where "reject or drop" is the only
 * right answer; the lenient-or-strict ones (trws, lwsstart, baddate, escruri...) are left out.
 */
export const hostileCases: readonly HostileCase[] = [
  {
    // RFC 4475 §3.1.2.1 badinv01: empty Via and Contact params; our Via goes on top so a 400 can come back.
    name: 'extraneous header field separators (RFC 4475 badinv01)',
    transports: ['udp', 'tcp'],
    allowed: [400],
    build: (l) =>
      crlf(`INVITE sip:user@example.com SIP/2.0
Via: ${l.via}
To: sip:j.user@example.com
From: sip:caller@example.net;tag=134161461246
Max-Forwards: 7
Call-ID: badinv01.0ha0isndaksdjasdf3234nas
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;;,;,,
Contact: "Joe" <sip:joe@example.org>;;;;
Content-Length: ${SDP.length}
Content-Type: application/sdp

`) + SDP,
  },
  {
    // RFC 4475 §3.1.2.2 clerr: over UDP the missing octets can never arrive. (Over TCP it just waits.)
    name: 'Content-Length larger than the message (RFC 4475 clerr)',
    transports: ['udp'],
    allowed: [400],
    build: (l) =>
      crlf(`INVITE sip:user@example.com SIP/2.0
Max-Forwards: 80
To: sip:j.user@example.com
From: sip:caller@example.net;tag=93942939o2
Contact: <sip:caller@hungry.example.net>
Call-ID: clerr.0ha0isndaksdjweiafasdk3
CSeq: 8 INVITE
Via: ${l.via}
Content-Type: application/sdp
Content-Length: 9999

`) + SDP,
  },
  {
    name: 'negative Content-Length (RFC 4475 ncl)',
    transports: ['udp', 'tcp'],
    allowed: [400],
    build: (l) =>
      crlf(`INVITE sip:user@example.com SIP/2.0
Max-Forwards: 254
To: sip:j.user@example.com
From: sip:caller@example.net;tag=32394234
Call-ID: ncl.0ha0isndaksdj2193423r542w35
CSeq: 0 INVITE
Via: ${l.via}
Contact: <sip:caller@example53.example.net>
Content-Type: application/sdp
Content-Length: -999

`) + SDP,
  },
  {
    // RFC 4475 §3.1.2.4 scalar02: "should respond with a 400 Bad Request due to the CSeq error".
    name: 'request scalar fields with overlarge values (RFC 4475 scalar02)',
    transports: ['udp', 'tcp'],
    allowed: [400],
    build: (l) =>
      crlf(`REGISTER sip:example.com SIP/2.0
Via: ${l.via}
To: <sip:user@example.com>
From: <sip:user@example.com>;tag=239232jh3
CSeq: 36893488147419103232 REGISTER
Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32
Max-Forwards: 300
Expires: 1000000000000000000000000000000000000000000000000000000000000000
Contact: <sip:user@host129.example.com>
  ;expires=280297596632815
Content-Length: 0

`),
  },
  {
    // RFC 4475 §3.1.2.5 scalarlg: a response matching no transaction, with overlarge values: drop it.
    name: 'response with overlarge scalar values (RFC 4475 scalarlg)',
    transports: ['udp', 'tcp'],
    allowed: [],
    build: (l) =>
      crlf(`SIP/2.0 503 Service Unavailable
Via: ${l.via};received=192.0.2.129
To: <sip:user@example.com>
From: <sip:other@example.net>;tag=2easdjfejw
CSeq: 9292394834772304023312 OPTIONS
Call-ID: scalarlg.noase0of0234hn2qofoaf0232aewf2394r
Retry-After: 949302838503028349304023988
Warning: 1812 overture "In Progress"
Content-Length: 0

`),
  },
  {
    name: 'unterminated quoted string in display name (RFC 4475 quotbal)',
    transports: ['udp', 'tcp'],
    allowed: [400],
    build: (l) =>
      crlf(`INVITE sip:user@example.com SIP/2.0
To: "Mr. J. User <sip:j.user@example.com>
From: sip:caller@example.net;tag=93334
Max-Forwards: 10
Call-ID: quotbal.aksdj
Contact: <sip:caller@host59.example.net>
CSeq: 8 INVITE
Via: ${l.via}
Content-Type: application/sdp
Content-Length: ${SDP.length}

`) + SDP,
  },
  {
    // 416 (Unsupported URI Scheme) is a fair reading too: the scheme parses as "<sip".
    name: '<> enclosing the Request-URI (RFC 4475 ltgtruri)',
    transports: ['udp', 'tcp'],
    allowed: [400, 416],
    build: (l) =>
      crlf(`INVITE <sip:user@example.com> SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=39291
Max-Forwards: 23
Call-ID: ltgtruri.1@192.0.2.5
CSeq: 1 INVITE
Via: ${l.via}
Contact: <sip:caller@host5.example.net>
Content-Type: application/sdp
Content-Length: ${SDP.length}

`) + SDP,
  },
  {
    name: 'embedded LWS in the Request-URI (RFC 4475 lwsruri)',
    transports: ['udp', 'tcp'],
    allowed: [400],
    build: (l) =>
      crlf(`INVITE sip:user@example.com; lr SIP/2.0
To: sip:user@example.com;tag=3xfe-9921883-z9f
From: sip:caller@example.net;tag=231413434
Max-Forwards: 5
Call-ID: lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423
CSeq: 2130706432 INVITE
Via: ${l.via}
Contact: <sip:caller@host1.example.net>
Content-Type: application/sdp
Content-Length: ${SDP.length}

`) + SDP,
  },
  {
    // RFC 4475 §3.1.2.16 badvers: "should respond with a 505 Version Not Supported".
    name: 'unknown protocol version SIP/7.0 (RFC 4475 badvers)',
    transports: ['udp', 'tcp'],
    allowed: [505, 400],
    build: (l) =>
      crlf(`OPTIONS sip:t.watson@example.org SIP/7.0
Via: ${l.via}
Max-Forwards: 70
From: A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe
To: T. Watson <sip:t.watson@example.org>
Call-ID: badvers.31417@c.example.com
CSeq: 1 OPTIONS
l: 0

`),
  },
  {
    name: 'start line and CSeq method mismatch (RFC 4475 mismatch01)',
    transports: ['udp', 'tcp'],
    allowed: [400],
    build: (l) =>
      crlf(`OPTIONS sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=34525
Max-Forwards: 6
Call-ID: mismatch01.dj0234sxdfl3
CSeq: 8 INVITE
Via: ${l.via}
l: 0

`),
  },
  {
    // 501/405 accepted as well: a server may look at the unknown method before the CSeq.
    name: 'unknown method with CSeq method mismatch (RFC 4475 mismatch02)',
    transports: ['udp', 'tcp'],
    allowed: [400, 405, 501],
    build: (l) =>
      crlf(`NEWMETHOD sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=34525
Max-Forwards: 6
Call-ID: mismatch02.dj0234sxdfl3
CSeq: 8 INVITE
Contact: <sip:caller@host.example.net>
Via: ${l.via}
Content-Type: application/sdp
l: ${SDP.length}

`) + SDP,
  },
  {
    name: 'overlarge response code 4294967301 (RFC 4475 bigcode)',
    transports: ['udp', 'tcp'],
    allowed: [],
    build: (l) =>
      crlf(`SIP/2.0 4294967301 better not break the receiver
Via: ${l.via}
Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i
CSeq: 353494 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host105.example.com>

`),
  },
  {
    // RFC 4475 §3.3.1 insuf: no Call-ID, From, To or Max-Forwards.
    name: 'missing required header fields (RFC 4475 insuf)',
    transports: ['udp', 'tcp'],
    allowed: [400],
    build: (l) =>
      crlf(`INVITE sip:user@example.com SIP/2.0
CSeq: 193942 INVITE
Via: ${l.via}
Content-Type: application/sdp
l: ${SDP.length}

`) + SDP,
  },
  {
    // RFC 4475 §3.3.8 multi01: two each of Call-ID, To, From, Max-Forwards and CSeq.
    name: 'repeated single-value header fields (RFC 4475 multi01)',
    transports: ['udp', 'tcp'],
    allowed: [400],
    build: (l) =>
      crlf(`INVITE sip:user@company.com SIP/2.0
Contact: <sip:caller@host25.example.net>
Via: ${l.via}
Max-Forwards: 70
CSeq: 5 INVITE
Call-ID: multi01.98asdh@192.0.2.1
CSeq: 59 INVITE
Call-ID: multi01.98asdh@192.0.2.2
From: sip:caller@example.com;tag=3413415
To: sip:user@example.com
To: sip:other@example.net
From: sip:caller@example.net;tag=2923420123
Content-Type: application/sdp
l: ${SDP.length}
Contact: <sip:caller@host36.example.net>
Max-Forwards: 5

`) + SDP,
  },
  {
    name: 'multiple Content-Length values (RFC 4475 mcl01)',
    transports: ['udp'],
    allowed: [400],
    build: (l) =>
      crlf(`OPTIONS sip:user@example.com SIP/2.0
Via: ${l.via}
To: sip:user@example.com
From: sip:other@example.net;tag=3923942
Call-ID: mcl01.fhn2323orihawfdoa3o4r52o3irsdf
CSeq: 15932 OPTIONS
Content-Length: 13
Max-Forwards: 60
Content-Length: 5
Content-Type: text/plain

There's no way to know how many octets are supposed to be here.
`),
  },
  {
    name: '2 KB of garbage bytes',
    transports: ['udp', 'tcp'],
    allowed: [],
    build: () => noise(2048, 'garbage'),
  },
  {
    name: 'a start line followed by NUL bytes and no headers',
    transports: ['udp', 'tcp'],
    allowed: [400],
    build: () =>
      Buffer.concat([Buffer.from('OPTIONS sip:example.test SIP/2.0\r\n'), Buffer.alloc(512), Buffer.from('\r\n\r\n')]),
  },
  {
    // The largest IPv4 datagram: a server may answer it (513 or 400 if it has a lower limit), but must survive it.
    name: 'a 65,507-byte datagram (the UDP maximum)',
    transports: ['udp'],
    allowed: 'any',
    build: (l) => paddedOptions(l, 65_507, true),
  },
  {
    // RFC 3261 §21.5.14: 513 Message Too Large. Our expectation: Handset's stream limit is below 70 KB.
    name: 'a 70 KB message on a stream',
    transports: ['tcp'],
    allowed: [513, 400, 413],
    build: (l) => paddedOptions(l, 70 * 1024, true),
  },
  {
    name: '70 KB of headers that never end',
    transports: ['tcp'],
    allowed: [513, 400, 413],
    build: (l) => paddedOptions(l, 70 * 1024, false),
  },
];
