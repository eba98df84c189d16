/**
 * A client of rtpengine's ng control protocol: `<cookie> <bencoded dictionary>` over UDP, the
 * answer echoing the cookie. A request without an answer is sent again with the same cookie
 * (rtpengine remembers the answer per cookie, so a retransmitted offer is not applied twice),
 * and gives up with a MediaError after its last retry.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { bdecode, type BDecoded, bencode, type BValue } from './bencode.js';
import { MediaError } from './media-error.js';

/** An ng answer: `result` is `ok` (or `pong`), every other key as rtpengine sent it. */
export type NgResponse = { [key: string]: BDecoded } & { result: string };

/** Where an rtpengine listens for ng commands. */
export interface NgAddress {
  host: string;
  port: number;
}

/** Options of {@link NgClient}. */
export interface NgClientOptions extends NgAddress {
  /** Wait this long for each attempt (default 1000 ms, as Kamailio's rtpengine module). */
  timeoutMs?: number;
  /** Attempts after the first (default 2). */
  retries?: number;
}

interface Pending {
  payload: Buffer;
  attemptsLeft: number;
  timer: NodeJS.Timeout;
  resolve: (r: NgResponse) => void;
  reject: (e: MediaError) => void;
}

/** Largest answer we accept (an SDP with many candidates fits easily). */
const MAX_DATAGRAM = 65_507;

/** One rtpengine's ng port, over one UDP socket. */
export class NgClient {
  private socket: Socket | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly prefix = randomBytes(4).toString('hex');
  private seq = 0;
  private closed = false;
  readonly timeoutMs: number;
  readonly retries: number;

  constructor(private readonly o: NgClientOptions) {
    this.timeoutMs = o.timeoutMs ?? 1000;
    this.retries = o.retries ?? 2;
  }

  /** `udp:host:port` for logs. */
  get address(): string {
    return `udp:${this.o.host}:${this.o.port}`;
  }

  /** Sends one command (`command` plus its keys) and resolves with rtpengine's answer. */
  request(command: string, args: { [key: string]: BValue | undefined } = {}): Promise<NgResponse> {
    if (this.closed) return Promise.reject(new MediaError('CLOSED', 'the ng client is closed'));
    const cookie = `${this.prefix}_${(this.seq = (this.seq + 1) % 1e9)}`;
    const payload = Buffer.concat([Buffer.from(`${cookie} `), bencode({ ...args, command })]);
    return new Promise<NgResponse>((resolve, reject) => {
      const p: Pending = {
        payload,
        attemptsLeft: this.retries,
        timer: setTimeout(() => this.onTimeout(cookie), this.timeoutMs),
        resolve,
        reject,
      };
      this.pending.set(cookie, p);
      this.send(payload);
    }).then((r) => {
      if (r.result === 'error') {
        const why = typeof r['error-reason'] === 'string' ? r['error-reason'] : 'no reason given';
        throw new MediaError('REFUSED', `rtpengine refused ${command}: ${why}`);
      }
      return r;
    });
  }

  /** Fails every pending request and closes the socket. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [cookie, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(cookie);
      p.reject(new MediaError('CLOSED', 'the ng client was closed'));
    }
    this.socket?.close();
    this.socket = undefined;
  }

  private send(payload: Buffer): void {
    this.ensureSocket().send(payload, this.o.port, this.o.host, () => {
      // A send error (ICMP unreachable and the like) shows up as a timeout: the retry policy decides.
    });
  }

  private ensureSocket(): Socket {
    if (this.socket) return this.socket;
    const s = createSocket(isIPv6(this.o.host) ? 'udp6' : 'udp4');
    s.on('message', (msg, rinfo) => {
      if (rinfo.port !== this.o.port) return;
      this.onMessage(msg);
    });
    s.on('error', () => {
      // Asynchronous socket errors (ECONNREFUSED on Linux after an ICMP) are retried by the timers.
    });
    s.unref();
    this.socket = s;
    return s;
  }

  private onMessage(msg: Buffer): void {
    if (msg.length > MAX_DATAGRAM) return;
    const space = msg.indexOf(0x20);
    if (space <= 0 || space > 64) return;
    const cookie = msg.toString('latin1', 0, space);
    const p = this.pending.get(cookie);
    if (!p) return; // a late answer to a request that already timed out, or noise
    let body: BDecoded;
    try {
      body = bdecode(msg.subarray(space + 1));
    } catch (err) {
      this.finish(
        cookie,
        p,
        undefined,
        new MediaError('BENCODE', 'rtpengine sent an answer that does not parse', { cause: err }),
      );
      return;
    }
    if (typeof body !== 'object' || Array.isArray(body) || typeof body.result !== 'string') {
      this.finish(cookie, p, undefined, new MediaError('BENCODE', 'rtpengine sent an answer without a result'));
      return;
    }
    this.finish(cookie, p, body as NgResponse);
  }

  private onTimeout(cookie: string): void {
    const p = this.pending.get(cookie);
    if (!p) return;
    if (p.attemptsLeft-- > 0) {
      p.timer = setTimeout(() => this.onTimeout(cookie), this.timeoutMs);
      this.send(p.payload);
      return;
    }
    this.finish(
      cookie,
      p,
      undefined,
      new MediaError('TIMEOUT', `rtpengine at ${this.address} did not answer (${this.retries + 1} attempts)`),
    );
  }

  private finish(cookie: string, p: Pending, res: NgResponse | undefined, err?: MediaError): void {
    clearTimeout(p.timer);
    this.pending.delete(cookie);
    if (err) p.reject(err);
    else p.resolve(res!);
  }
}
