import { isUtf8 } from 'node:buffer';
import type { Socket } from 'node:net';
import { TransportError, type Flow, type TransportDelegate } from '@handset/sip';
import { WebSocket, type RawData } from 'ws';
import { CRLF_PONG, isCrlfOnly } from './keep-alive.js';
import type { TransportLimits, TransportLogger, TransportTrace } from './transport-options.js';

/** What a WsConnection needs from the transport that owns it. */
export interface WsConnectionContext {
  readonly delegate: TransportDelegate;
  readonly logger: TransportLogger;
  readonly limits: TransportLimits;
  readonly trace: TransportTrace | undefined;
  /** Called once, after the WebSocket has closed. */
  connectionClosed(connection: WsConnection): void;
}

/**
 * One SIP WebSocket (RFC 7118): each WebSocket message is one SIP message,
 * text or binary. A CRLFCRLF message is a keep-alive ping answered with CRLF
 * (RFC 5626 §4.4.1, as JsSIP and SIP.js send it); a lone CRLF is ignored.
 */
export class WsConnection {
  private registered = false;

  constructor(
    readonly ws: WebSocket,
    /** The upgraded TCP/TLS socket: its timer implements the idle timeout. */
    private readonly socket: Socket,
    readonly flow: Flow,
    private readonly context: WsConnectionContext,
  ) {
    socket.setTimeout(context.limits.idleTimeoutMs);
    socket.on('timeout', () => this.onIdle());
    ws.on('message', (data: RawData, isBinary: boolean) => this.receive(data as Buffer, isBinary));
    ws.on('error', (err) => context.logger.debug({ flow: flow.id, err }, 'SIP WebSocket error'));
    ws.once('close', () => context.connectionClosed(this));
  }

  /** True while messages can be sent. */
  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /**
   * Sends one message; throws TransportError when closed or the peer is not reading.
   * Valid UTF-8 goes as a text frame (what browser stacks expect), anything else as binary (RFC 7118 §5.1).
   */
  write(data: Buffer): void {
    const { ws, context } = this;
    if (ws.readyState !== WebSocket.OPEN) throw new TransportError(`flow ${this.flow.id} is closed`);
    if (ws.bufferedAmount > context.limits.maxWriteBuffer) {
      context.logger.warn({ flow: this.flow.id, queued: ws.bufferedAmount }, 'closing SIP WebSocket: peer not reading');
      ws.terminate();
      throw new TransportError(`flow ${this.flow.id} dropped: peer not reading`);
    }
    ws.send(data, { binary: !isUtf8(data) });
    if (context.trace !== undefined) this.traceSafely('out', data);
  }

  /** A registered flow is exempt from the idle timeout. */
  setRegistered(registered: boolean): void {
    if (registered === this.registered) return;
    this.registered = registered;
    this.socket.setTimeout(registered ? 0 : this.context.limits.idleTimeoutMs);
  }

  /** Closes the connection at once. */
  close(): void {
    this.ws.terminate();
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (data.length <= 4 && isCrlfOnly(data)) {
      if (data.length === 4 && this.isOpen) this.ws.send(CRLF_PONG, { binary: isBinary });
      return;
    }
    const { context } = this;
    if (context.trace !== undefined) this.traceSafely('in', data);
    try {
      context.delegate.onMessage(data, this.flow);
    } catch (err) {
      context.logger.warn({ flow: this.flow.id, err }, 'SIP message handler threw');
    }
  }

  private onIdle(): void {
    if (this.registered) return;
    this.context.logger.debug({ flow: this.flow.id }, 'closing idle SIP WebSocket');
    this.ws.terminate();
  }

  private traceSafely(direction: 'in' | 'out', data: Buffer): void {
    try {
      this.context.trace?.(direction, data, this.flow);
    } catch (err) {
      this.context.logger.warn({ err }, 'SIP trace hook threw');
    }
  }
}
