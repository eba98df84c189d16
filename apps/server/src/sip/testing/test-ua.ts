/**
 * A raw SIP user agent for integration tests: one socket (UDP, TCP or WebSocket) to the
 * server on 127.0.0.1, requests built by hand, every message received kept for assertions.
 * It answers digest challenges, ACKs non-2xx INVITE responses (RFC 3261 §17.1.1.3) and, as
 * a callee, answers INVITE/CANCEL/BYE/MESSAGE by a configurable policy. No retransmission:
 * loopback does not lose datagrams, and the tests want to see exactly what went over the wire.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import {
  computeAuthorization,
  createResponse,
  newBranch,
  newCallId,
  newTag,
  parseMessage,
  parseNameAddr,
  serializeMessage,
  StreamFramer,
  type SipMessage,
  SipRequest,
  type SipResponse,
} from '@handset/sip';
import WebSocket from 'ws';

/** The transports a test UA speaks. */
export type TestUaTransport = 'udp' | 'tcp' | 'ws';

/** Options of {@link TestUa.open}. */
export interface TestUaOptions {
  transport: TestUaTransport;
  /** The server address; `port` is the SIP port of that transport (the HTTP port for ws). */
  server: { host: string; port: number };
  user: string;
  domain: string;
  /** Used to answer 401/407 challenges; without it challenges are returned as they are. */
  password?: string | undefined;
  /** Default wait for a response or request (default 5000 ms). */
  timeoutMs?: number | undefined;
  /** Sent as User-Agent. */
  userAgent?: string | undefined;
  /** WebSocket only: the `.invalid` host naming this client (a reconnecting client keeps its own). */
  wsHost?: string | undefined;
  /** The local address to send from (default 127.0.0.1): any of 127.0.0.0/8 stands for another host. */
  localAddress?: string | undefined;
}

/** What the UA does with an incoming initial INVITE. */
export type InvitePolicy =
  /** 180 Ringing, then wait (a CANCEL gets 487). */
  | 'ring'
  /** 180, then this final status after `delayMs` (200 carries an SDP answer). */
  | { status: number; delayMs?: number };

/** A dialog from this UA's point of view (RFC 3261 §12). */
export interface TestDialog {
  callId: string;
  localTag: string;
  remoteTag: string;
  localUri: string;
  remoteUri: string;
  /** The peer's Contact URI. */
  remoteTarget: string;
  /** Route set as this UA must send it (§12.1.1 / §12.1.2). */
  routeSet: string[];
  localSeq: number;
}

/** An incoming INVITE the UA is handling as a callee. */
export interface IncomingCall {
  readonly invite: SipRequest;
  readonly toTag: string;
  /** The last response sent for it. */
  lastResponse: SipResponse | undefined;
  /** True once a CANCEL for it arrived. */
  cancelled: boolean;
  /** Set when this UA answered 2xx. */
  dialog: TestDialog | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** A request this UA sent and the responses it got for it (matched by top Via branch and CSeq method). */
export class TestClientTransaction {
  readonly responses: SipResponse[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly request: SipRequest,
    private readonly timeoutMs: number,
  ) {}

  /** The top Via branch. */
  get branch(): string {
    return this.request.topVia.params.get('branch') ?? '';
  }

  /** The first response matching `want` (a status, or a predicate), waiting up to `timeoutMs`. */
  waitResponse(want: number | ((r: SipResponse) => boolean), timeoutMs = this.timeoutMs): Promise<SipResponse> {
    const pred = typeof want === 'number' ? (r: SipResponse) => r.status === want : want;
    const found = this.responses.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = () => {
        const r = this.responses.find(pred);
        if (!r) return;
        cleanup();
        resolve(r);
      };
      const timer = setTimeout(() => {
        cleanup();
        const got = this.responses.map((r) => r.status).join(', ') || 'nothing';
        reject(
          new Error(`${this.request.method} ${this.request.uri}: no matching response in ${timeoutMs} ms (got ${got})`),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
  }

  /** The final response (>= 200). */
  final(timeoutMs = this.timeoutMs): Promise<SipResponse> {
    return this.waitResponse((r) => r.status >= 200, timeoutMs);
  }

  /** Called by the UA when a response arrives. */
  deliver(res: SipResponse): void {
    this.responses.push(res);
    for (const l of [...this.listeners]) l();
  }
}

/** A minimal SDP body (audio, PCMU) so INVITEs and answers look like real calls. */
export function testSdp(user: string, port = 40000): string {
  return (
    'v=0\r\n' +
    `o=${user} 1 1 IN IP4 127.0.0.1\r\n` +
    's=-\r\n' +
    'c=IN IP4 127.0.0.1\r\n' +
    't=0 0\r\n' +
    `m=audio ${port} RTP/AVP 0\r\n` +
    'a=rtpmap:0 PCMU/8000\r\n'
  );
}

type Waiter = { pred: (m: SipRequest) => boolean; resolve: (m: SipRequest) => void };
type Source = { address: string; port: number };
type Io = { send(data: Buffer, to?: Source): void; close(): void; localPort: number };

/** A scripted SIP UA over one real socket. */
export class TestUa {
  /** Every message received, in order. */
  readonly received: SipMessage[] = [];
  /** Bytes that did not parse as SIP. */
  readonly garbage: Buffer[] = [];
  /** Incoming INVITEs by Call-ID. */
  readonly calls = new Map<string, IncomingCall>();
  /** What to do with incoming INVITEs (default: ring). */
  invitePolicy: InvitePolicy = 'ring';
  /** The URI this UA registers as its Contact. */
  readonly contactUri: string;
  /** `sip:user@domain`. */
  readonly aor: string;
  readonly user: string;
  readonly domain: string;
  readonly transport: TestUaTransport;
  readonly timeoutMs: number;
  /** The Call-ID of this UA's registrations (kept across refreshes, RFC 3261 §10.2.4). */
  readonly registerCallId = newCallId();
  /** Set once the socket closed (TCP/WS). */
  closed = false;

  private readonly sentBy: string;
  private readonly viaTransport: string;
  private readonly txns = new Map<string, TestClientTransaction>();
  private readonly taken = new WeakSet<SipRequest>();
  private readonly waiters = new Set<Waiter>();
  /** Where each UDP request came from: responses go back there (§18.2.2 with rport). */
  private readonly sources = new WeakMap<SipMessage, Source>();
  private cseq = 1;

  private constructor(
    private readonly o: TestUaOptions,
    private readonly io: Io,
  ) {
    this.user = o.user;
    this.domain = o.domain;
    this.transport = o.transport;
    this.aor = `sip:${o.user}@${o.domain}`;
    this.timeoutMs = o.timeoutMs ?? 5000;
    if (o.transport === 'ws') {
      // RFC 7118 §5.2: a WebSocket client has no reachable address; it names itself with .invalid.
      const host = o.wsHost ?? `${randomBytes(6).toString('hex')}.invalid`;
      this.sentBy = host;
      this.contactUri = `sip:${o.user}@${host};transport=ws`;
    } else {
      const host = o.localAddress ?? '127.0.0.1';
      this.sentBy = `${host}:${io.localPort}`;
      this.contactUri = `sip:${o.user}@${host}:${io.localPort}${o.transport === 'tcp' ? ';transport=tcp' : ''}`;
    }
    this.viaTransport = o.transport.toUpperCase();
  }

  /** Opens the socket (and for TCP/WS the connection) and resolves when it can send. */
  static async open(o: TestUaOptions): Promise<TestUa> {
    // eslint-disable-next-line prefer-const -- assigned once the socket is open; the closures above read it first
    let ua: TestUa | undefined;
    const pending: Buffer[] = [];
    const deliver = (data: Buffer, stream: boolean, from?: Source) =>
      ua ? ua.onData(data, stream, from) : pending.push(data);
    const markClosed = () => {
      if (ua) ua.closed = true;
    };
    let io: Io;
    if (o.transport === 'udp') {
      const sock = createSocket('udp4');
      sock.on('message', (msg, rinfo) => deliver(msg, false, { address: rinfo.address, port: rinfo.port }));
      sock.on('error', () => {});
      await new Promise<void>((resolve) => sock.bind(0, o.localAddress ?? '127.0.0.1', resolve));
      io = {
        send: (data, to) => sock.send(data, to?.port ?? o.server.port, to?.address ?? o.server.host),
        close: () => {
          try {
            sock.close();
          } catch {
            /* already closed */
          }
        },
        localPort: sock.address().port,
      };
    } else if (o.transport === 'tcp') {
      const sock = connect({ host: o.server.host, port: o.server.port, localAddress: o.localAddress });
      const framer = new StreamFramer({
        onMessage: (m) => deliver(Buffer.from(m), true),
        onPing: () => sock.write('\r\n'),
        onError: () => sock.destroy(),
      });
      sock.on('data', (chunk) => framer.push(chunk));
      sock.on('error', () => {});
      sock.on('close', markClosed);
      await new Promise<void>((resolve, reject) => {
        sock.once('connect', resolve);
        sock.once('error', reject);
      });
      io = { send: (data) => sock.write(data), close: () => sock.destroy(), localPort: sock.localPort ?? 0 };
    } else {
      const sock = new WebSocket(`ws://${o.server.host}:${o.server.port}/sip`, 'sip', {
        localAddress: o.localAddress,
      });
      sock.on('message', (data: Buffer) => deliver(Buffer.from(data), false));
      sock.on('error', () => {});
      sock.on('close', markClosed);
      await new Promise<void>((resolve, reject) => {
        sock.once('open', resolve);
        sock.once('error', reject);
      });
      if (sock.protocol !== 'sip') throw new Error(`server chose WebSocket subprotocol "${sock.protocol}", not "sip"`);
      io = {
        send: (data) => sock.send(data.toString('utf8')),
        close: () => sock.close(),
        localPort: 0,
      };
    }
    ua = new TestUa(o, io);
    for (const d of pending) ua.onData(d, o.transport === 'tcp');
    return ua;
  }

  /** Sends raw bytes or text as they are (one datagram / WebSocket message). */
  sendRaw(data: string | Buffer): void {
    this.io.send(typeof data === 'string' ? Buffer.from(data) : data);
  }

  /** Serializes and sends a message outside any transaction (ACK, responses). */
  send(msg: SipMessage): void {
    this.io.send(serializeMessage(msg));
  }

  /** Builds an out-of-dialog request from this UA. `to` is a user of our domain or a full URI. */
  createRequest(
    method: string,
    opts: {
      to?: string;
      uri?: string;
      callId?: string;
      fromTag?: string;
      cseq?: number;
      contact?: string | false;
      headers?: ReadonlyArray<readonly [string, string]>;
      body?: string;
      contentType?: string;
      maxForwards?: number;
    } = {},
  ): SipRequest {
    const toUri =
      opts.to === undefined
        ? method === 'REGISTER'
          ? this.aor
          : `sip:${this.domain}`
        : opts.to.includes(':')
          ? opts.to
          : `sip:${opts.to}@${this.domain}`;
    const uri = opts.uri ?? (method === 'REGISTER' ? `sip:${this.domain}` : toUri);
    const req = new SipRequest(method, uri);
    req.appendHeader('Via', this.via());
    req.appendHeader('Max-Forwards', String(opts.maxForwards ?? 70));
    req.appendHeader('From', `<${this.aor}>;tag=${opts.fromTag ?? newTag()}`);
    req.appendHeader('To', `<${toUri}>`);
    req.appendHeader('Call-ID', opts.callId ?? (method === 'REGISTER' ? this.registerCallId : newCallId()));
    req.appendHeader('CSeq', `${opts.cseq ?? this.cseq++} ${method}`);
    const contact = opts.contact === undefined ? `<${this.contactUri}>` : opts.contact;
    if (contact !== false && method !== 'MESSAGE' && method !== 'OPTIONS') req.appendHeader('Contact', contact);
    if (this.o.userAgent !== undefined) req.appendHeader('User-Agent', this.o.userAgent);
    for (const [n, v] of opts.headers ?? []) req.appendHeader(n, v);
    if (opts.body !== undefined) {
      req.appendHeader('Content-Type', opts.contentType ?? (method === 'INVITE' ? 'application/sdp' : 'text/plain'));
      req.body = Buffer.from(opts.body, 'utf8');
    }
    return req;
  }

  /** Sends a request in a new client transaction (no retransmissions). */
  sendRequest(req: SipRequest): TestClientTransaction {
    const t = new TestClientTransaction(req, this.timeoutMs);
    this.txns.set(`${t.branch}|${req.cseq.method}`, t);
    this.send(req);
    return t;
  }

  /**
   * Sends a request and waits for its final response; a 401/407 is answered once with
   * credentials (a copy with a new branch and the next CSeq). Returns the request that got
   * the final response.
   */
  async request(
    req: SipRequest,
    opts: { auth?: boolean; timeoutMs?: number } = {},
  ): Promise<{ request: SipRequest; response: SipResponse }> {
    const first = await this.sendRequest(req).final(opts.timeoutMs);
    if (opts.auth === false || (first.status !== 401 && first.status !== 407) || this.o.password === undefined) {
      return { request: req, response: first };
    }
    const again = this.withCredentials(req, first);
    return { request: again, response: await this.sendRequest(again).final(opts.timeoutMs) };
  }

  /**
   * A copy of `req` answering the first challenge of `challenge` (or the first of `algorithm`)
   * (RFC 3261 §22.2, §22.3): same Call-ID and tags, a new branch, CSeq + 1.
   */
  withCredentials(
    req: SipRequest,
    challenge: SipResponse,
    opts: { password?: string; algorithm?: string } = {},
  ): SipRequest {
    const proxy = challenge.status === 407;
    const offered = challenge.getHeaders(proxy ? 'proxy-authenticate' : 'www-authenticate');
    const value =
      opts.algorithm === undefined
        ? offered[0]
        : offered.find((v) => new RegExp(`algorithm="?${opts.algorithm}"?(,|$|\\s)`, 'i').test(v));
    if (value === undefined) throw new Error(`${challenge.status} without a ${opts.algorithm ?? ''} challenge`);
    const password = opts.password ?? this.o.password ?? '';
    const out = new SipRequest(
      req.method,
      req.uri,
      req.headers.map((h) => ({ ...h })),
      req.body,
    );
    out.setHeader('Via', this.via());
    const seq = req.cseq.seq + 1;
    this.cseq = Math.max(this.cseq, seq + 1);
    out.setHeader('CSeq', `${seq} ${req.method}`);
    const header = proxy ? 'Proxy-Authorization' : 'Authorization';
    out.removeHeader(header);
    out.appendHeader(
      header,
      computeAuthorization(value, { username: this.user, password, method: req.method, uri: req.uri }),
    );
    return out;
  }

  /** REGISTERs this UA's contact (or `contact`), answering the challenge; resolves with the final response. */
  async register(
    opts: {
      expires?: number;
      contact?: string;
      headers?: ReadonlyArray<readonly [string, string]>;
      timeoutMs?: number;
    } = {},
  ): Promise<SipResponse> {
    const headers: Array<readonly [string, string]> = [...(opts.headers ?? [])];
    if (opts.expires !== undefined) headers.push(['Expires', String(opts.expires)]);
    const req = this.createRequest('REGISTER', { contact: opts.contact, headers });
    return (await this.request(req, { timeoutMs: opts.timeoutMs })).response;
  }

  /**
   * Starts an authenticated INVITE to `to`: sends it, answers the 407 (and ACKs it), and
   * returns the transaction of the authorized INVITE without waiting for its final response.
   */
  async invite(
    to: string,
    opts: { body?: string; headers?: ReadonlyArray<readonly [string, string]>; maxForwards?: number } = {},
  ): Promise<TestClientTransaction> {
    const req = this.createRequest('INVITE', {
      to,
      body: opts.body ?? testSdp(this.user),
      headers: opts.headers,
      maxForwards: opts.maxForwards,
    });
    const t = this.sendRequest(req);
    const first = await t.waitResponse((r) => r.status > 100);
    if (first.status !== 407 || this.o.password === undefined) return t;
    return this.sendRequest(this.withCredentials(req, first));
  }

  /** The dialog a 2xx to our INVITE created (§12.1.2: route set is the reversed Record-Route). */
  dialogFrom(invite: SipRequest, ok: SipResponse): TestDialog {
    const contact = ok.contacts;
    if (contact === '*' || contact[0] === undefined) throw new Error('2xx without Contact');
    return {
      callId: invite.callId,
      localTag: invite.from.params.get('tag') ?? '',
      remoteTag: ok.to.params.get('tag') ?? '',
      localUri: invite.from.uri,
      remoteUri: invite.to.uri,
      remoteTarget: contact[0].uri,
      routeSet: ok.getHeaders('record-route').reverse(),
      localSeq: invite.cseq.seq,
    };
  }

  /** Builds a request inside a dialog (§12.2.1.1); ACK reuses the INVITE's CSeq number. */
  inDialog(d: TestDialog, method: string, opts: { body?: string; contentType?: string } = {}): SipRequest {
    const seq = method === 'ACK' || method === 'CANCEL' ? d.localSeq : ++d.localSeq;
    const req = new SipRequest(method, d.remoteTarget);
    req.appendHeader('Via', this.via());
    req.appendHeader('Max-Forwards', '70');
    for (const r of d.routeSet) req.appendHeader('Route', r);
    req.appendHeader('From', `<${d.localUri}>;tag=${d.localTag}`);
    req.appendHeader('To', `<${d.remoteUri}>;tag=${d.remoteTag}`);
    req.appendHeader('Call-ID', d.callId);
    req.appendHeader('CSeq', `${seq} ${method}`);
    if (method === 'INVITE' || method === 'UPDATE') req.appendHeader('Contact', `<${this.contactUri}>`);
    if (opts.body !== undefined) {
      req.appendHeader('Content-Type', opts.contentType ?? 'text/plain');
      req.body = Buffer.from(opts.body, 'utf8');
    }
    return req;
  }

  /** Sends the ACK for a 2xx (end to end, §13.2.2.4). */
  ack(d: TestDialog): SipRequest {
    const ack = this.inDialog(d, 'ACK');
    this.send(ack);
    return ack;
  }

  /** Sends BYE in the dialog and waits for its final response. */
  async bye(d: TestDialog): Promise<SipResponse> {
    return (await this.request(this.inDialog(d, 'BYE'), { auth: false })).response;
  }

  /** Sends a CANCEL for a pending INVITE (§9.1: same Request-URI, Call-ID, From, To, CSeq number, Via branch). */
  cancel(invite: SipRequest): TestClientTransaction {
    const c = new SipRequest('CANCEL', invite.uri);
    c.appendHeader('Via', invite.getHeaders('via')[0]!);
    c.appendHeader('Max-Forwards', '70');
    for (const r of invite.getHeaders('route')) c.appendHeader('Route', r);
    c.appendHeader('From', invite.getHeader('from')!);
    c.appendHeader('To', invite.getHeader('to')!);
    c.appendHeader('Call-ID', invite.callId);
    c.appendHeader('CSeq', `${invite.cseq.seq} CANCEL`);
    return this.sendRequest(c);
  }

  /** The next received request matching (not returned by an earlier wait), waiting up to `timeoutMs`. */
  waitForRequest(
    method: string,
    pred: (r: SipRequest) => boolean = () => true,
    timeoutMs = this.timeoutMs,
  ): Promise<SipRequest> {
    const match = (m: SipRequest) => m.method === method && pred(m);
    for (const m of this.received) {
      if (m.isRequest() && !this.taken.has(m) && match(m)) {
        this.taken.add(m);
        return Promise.resolve(m);
      }
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        pred: match,
        resolve: (m) => {
          clearTimeout(timer);
          this.waiters.delete(w);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        const got =
          this.requests()
            .map((r) => r.method)
            .join(', ') || 'nothing';
        reject(
          new Error(`${this.user} (${this.transport}): no ${method} in ${timeoutMs} ms (requests so far: ${got})`),
        );
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  /**
   * The status of the first response whose top Via has `branch`, waiting up to `timeoutMs`.
   * Also finds responses our parser rejects (a 400 to a request without Call-ID lacks one too).
   */
  async waitForStatus(branch: string, timeoutMs = this.timeoutMs): Promise<number> {
    const find = (): number | undefined => {
      for (const m of this.received) {
        if (!m.isRequest() && m.via[0]?.params.get('branch') === branch) return (m as SipResponse).status;
      }
      for (const g of this.garbage) {
        const text = g.toString('latin1');
        const status = /^SIP\/2\.0 (\d{3}) /.exec(text);
        if (status && text.includes(`branch=${branch}`)) return Number(status[1]);
      }
      return undefined;
    };
    const end = Date.now() + timeoutMs;
    for (;;) {
      const status = find();
      if (status !== undefined) return status;
      if (Date.now() > end)
        throw new Error(`${this.user} (${this.transport}): no response for branch ${branch} in ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Received requests, optionally of one method. */
  requests(method?: string): SipRequest[] {
    return this.received.filter((m): m is SipRequest => m.isRequest() && (method === undefined || m.method === method));
  }

  /** Sends a response to a received request (To tag added when missing). */
  respond(
    req: SipRequest,
    status: number,
    opts: {
      toTag?: string;
      headers?: ReadonlyArray<readonly [string, string]>;
      body?: string;
      contentType?: string;
    } = {},
  ): SipResponse {
    const headers: Array<readonly [string, string]> = [...(opts.headers ?? [])];
    const res = createResponse(req, status, {
      toTag: opts.toTag ?? newTag(),
      headers,
      ...(opts.body !== undefined
        ? { body: Buffer.from(opts.body), contentType: opts.contentType ?? 'application/sdp' }
        : {}),
    });
    this.io.send(serializeMessage(res), this.sources.get(req));
    return res;
  }

  /** Closes the socket (a WebSocket with a close frame, TCP with a reset). Idempotent. */
  close(): void {
    for (const c of this.calls.values()) clearTimeout(c.timer);
    this.io.close();
    this.closed = true;
  }

  private via(): string {
    return `SIP/2.0/${this.viaTransport} ${this.sentBy};rport;branch=${newBranch()}`;
  }

  private onData(data: Buffer, stream: boolean, from?: Source): void {
    if (data.toString('latin1').trim() === '') return; // keep-alive
    let msg: SipMessage;
    try {
      msg = parseMessage(data, { stream });
    } catch {
      this.garbage.push(data);
      return;
    }
    this.received.push(msg);
    if (from) this.sources.set(msg, from);
    if (msg.isRequest()) {
      this.onRequest(msg);
      for (const w of [...this.waiters]) {
        if (!this.taken.has(msg) && w.pred(msg)) {
          this.taken.add(msg);
          w.resolve(msg);
        }
      }
      return;
    }
    const res = msg as SipResponse;
    const branch = res.via[0]?.params.get('branch') ?? '';
    const t = this.txns.get(`${branch}|${res.cseq.method}`);
    if (!t) return;
    // §17.1.1.3: the client transaction ACKs every non-2xx final response to an INVITE (same branch).
    if (res.cseq.method === 'INVITE' && res.status >= 300) this.send(this.nonSuccessAck(t.request, res));
    t.deliver(res);
  }

  /** §17.1.1.3: ACK for a non-2xx final response: same branch, Request-URI, From, Call-ID; To from the response. */
  private nonSuccessAck(invite: SipRequest, res: SipResponse): SipRequest {
    const ack = new SipRequest('ACK', invite.uri);
    ack.appendHeader('Via', invite.getHeaders('via')[0]!);
    ack.appendHeader('Max-Forwards', '70');
    for (const r of invite.getHeaders('route')) ack.appendHeader('Route', r);
    ack.appendHeader('From', invite.getHeader('from')!);
    ack.appendHeader('To', res.getHeader('to')!);
    ack.appendHeader('Call-ID', invite.callId);
    ack.appendHeader('CSeq', `${invite.cseq.seq} ACK`);
    return ack;
  }

  /** The callee side: answers what a phone would answer. */
  private onRequest(req: SipRequest): void {
    switch (req.method) {
      case 'INVITE':
        return this.onInvite(req);
      case 'ACK':
        return;
      case 'CANCEL': {
        const call = this.calls.get(req.callId);
        const branch = req.topVia.params.get('branch');
        if (!call || call.invite.topVia.params.get('branch') !== branch) {
          this.respond(req, 481);
          return;
        }
        this.respond(req, 200, { toTag: call.toTag });
        call.cancelled = true;
        if (call.lastResponse === undefined || call.lastResponse.status < 200) {
          clearTimeout(call.timer);
          call.lastResponse = this.respond(call.invite, 487, { toTag: call.toTag });
        }
        return;
      }
      default: {
        const call = this.calls.get(req.callId);
        this.respond(req, 200, { toTag: req.to.params.get('tag') ?? call?.toTag ?? newTag() });
      }
    }
  }

  private onInvite(req: SipRequest): void {
    const existing = this.calls.get(req.callId);
    if (existing && existing.invite.topVia.params.get('branch') === req.topVia.params.get('branch')) {
      // A retransmission: repeat the last response (§17.2.1).
      if (existing.lastResponse) this.io.send(serializeMessage(existing.lastResponse), this.sources.get(req));
      return;
    }
    if (req.to.params.has('tag')) {
      this.respond(req, 200, {
        toTag: req.to.params.get('tag') ?? '',
        headers: [['Contact', `<${this.contactUri}>`]],
        body: testSdp(this.user, 40002),
      });
      return;
    }
    const call: IncomingCall = {
      invite: req,
      toTag: newTag(),
      lastResponse: undefined,
      cancelled: false,
      dialog: undefined,
      timer: undefined,
    };
    this.calls.set(req.callId, call);
    // §12.1.1: Record-Route is copied into responses that create the dialog.
    const rr = req.getHeaders('record-route').map((v) => ['Record-Route', v] as const);
    const contact = ['Contact', `<${this.contactUri}>`] as const;
    call.lastResponse = this.respond(req, 180, { toTag: call.toTag, headers: [...rr, contact] });
    const policy = this.invitePolicy;
    if (policy === 'ring') return;
    const answer = () => {
      if (call.cancelled) return;
      if (policy.status >= 200 && policy.status < 300) {
        call.lastResponse = this.respond(req, policy.status, {
          toTag: call.toTag,
          headers: [...rr, contact],
          body: testSdp(this.user, 40002),
        });
        const from = parseNameAddr(req.getHeader('from')!);
        call.dialog = {
          callId: req.callId,
          localTag: call.toTag,
          remoteTag: from.params.get('tag') ?? '',
          localUri: req.to.uri,
          remoteUri: from.uri,
          remoteTarget: (req.contacts as Array<{ uri: string }>)[0]?.uri ?? from.uri,
          routeSet: req.getHeaders('record-route'),
          localSeq: 1000,
        };
      } else {
        call.lastResponse = this.respond(req, policy.status, { toTag: call.toTag });
      }
    };
    if (!policy.delayMs) answer();
    else call.timer = setTimeout(answer, policy.delayMs);
  }
}
