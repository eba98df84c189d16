/**
 * One WebSocket to Handset that comes back after a loss, per a {@link ReconnectPolicy}. Frames are
 * JSON objects with `mt`; what is not one is ignored.
 */
import WebSocket from 'ws';
import type { ReconnectPolicy } from './reconnect-policy.js';

/** TLS and header options of the adapter WebSockets. */
export interface SocketOptions {
  /** `http(s)://host:port` or `ws(s)://host:port` of Handset. */
  url: string;
  /** API token, sent as `Authorization: Bearer`. */
  token?: string | undefined;
  /** PEM CA(s) to trust for a wss:// Handset with a private certificate. */
  ca?: string | Buffer | undefined;
  /** Reconnect policy (default {@link ExponentialBackoff}). */
  reconnect?: ReconnectPolicy | undefined;
}

/** Callbacks of a {@link ReconnectingSocket}. */
export interface SocketDelegate {
  onOpen(): void;
  onFrame(frame: Record<string, unknown>): void;
  /** The connection is gone; `willRetry` tells whether another attempt is scheduled. */
  onClose(code: number, reason: string, willRetry: boolean): void;
}

/** The ws(s) URL of `path` on Handset. */
export function endpointUrl(base: string, path: string): string {
  const u = new URL(base);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  u.pathname = path;
  u.search = '';
  return u.toString();
}

/** See the file comment. */
export class ReconnectingSocket {
  #ws: WebSocket | undefined;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly url: string,
    private readonly o: SocketOptions,
    private readonly policy: ReconnectPolicy,
    private readonly delegate: SocketDelegate,
  ) {}

  /** Opens the first connection. */
  start(): void {
    this.#connect();
  }

  /** True while a connection is open. */
  get open(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  /** Sends a frame (dropped when not connected; the protocol re-sends what matters after a reconnect). */
  send(frame: object): boolean {
    if (this.#ws?.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(JSON.stringify(frame));
    return true;
  }

  /** Drops the current connection; the policy decides about the next. */
  drop(): void {
    this.#ws?.terminate();
  }

  /** Closes for good; idempotent. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#ws?.close(1000);
  }

  #connect(): void {
    if (this.#closed) return;
    const ws = new WebSocket(this.url, {
      headers: this.o.token ? { Authorization: `Bearer ${this.o.token}` } : {},
      ...(this.o.ca ? { ca: this.o.ca } : {}),
      maxPayload: 1 << 20,
      handshakeTimeout: 10_000,
    });
    this.#ws = ws;
    ws.on('open', () => {
      this.#attempt = 0;
      this.delegate.onOpen();
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let frame: unknown;
      try {
        frame = JSON.parse((data as Buffer).toString('utf8'));
      } catch {
        return;
      }
      if (typeof frame === 'object' && frame !== null && typeof (frame as { mt?: unknown }).mt === 'string')
        this.delegate.onFrame(frame as Record<string, unknown>);
    });
    ws.on('error', () => undefined);
    ws.once('close', (code, reason) => {
      if (this.#ws !== ws) return;
      this.#ws = undefined;
      const delay = this.#closed ? undefined : this.policy.nextDelayMs(++this.#attempt);
      this.delegate.onClose(code, reason.toString(), delay !== undefined);
      if (delay !== undefined) {
        this.#timer = setTimeout(() => this.#connect(), delay);
      }
    });
  }
}
