import type { Socket } from 'node:net';
import {
  StreamFramer,
  TransportError,
  type Flow,
  type StreamFramerHandler,
  type StreamFramingError,
  type TransportDelegate,
} from '@handset/sip';
import { CRLF_PONG } from './keep-alive.js';
import type { TransportLimits, TransportLogger, TransportTrace } from './transport-options.js';

/** How long a connection that broke framing stays open for the answers to what it sent before. */
export const FRAMING_ERROR_LINGER_MS = 1000;

/** What a StreamConnection needs from the transport that owns it. */
export interface StreamConnectionContext {
  readonly delegate: TransportDelegate;
  readonly logger: TransportLogger;
  readonly limits: TransportLimits;
  readonly trace: TransportTrace | undefined;
  /** Called once, after the socket has closed. */
  connectionClosed(connection: StreamConnection): void;
}

/**
 * One TCP or TLS connection carrying SIP: frames incoming bytes into messages,
 * answers keep-alive pings, closes itself when idle (unless registered) or when
 * the peer breaks framing. Never throws out of a socket callback.
 */
export class StreamConnection implements StreamFramerHandler {
  private readonly framer: StreamFramer;
  private registered = false;

  constructor(
    readonly socket: Socket,
    readonly flow: Flow,
    private readonly context: StreamConnectionContext,
  ) {
    const { limits } = context;
    this.framer = new StreamFramer(this, {
      maxMessageSize: limits.maxMessageSize,
      maxHeaderSize: limits.maxHeaderSize,
    });
    socket.setNoDelay(true);
    socket.setTimeout(limits.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.framer.push(chunk));
    socket.on('timeout', () => this.onIdle());
    socket.on('error', (err) => context.logger.debug({ flow: flow.id, err }, 'SIP connection error'));
    socket.once('close', () => context.connectionClosed(this));
  }

  /** True while messages can be written. */
  get isOpen(): boolean {
    return !this.socket.destroyed && this.socket.writable;
  }

  /** Queues one message; throws TransportError when the flow is closed or the peer is not reading. */
  write(data: Buffer): void {
    const { socket, context } = this;
    if (!this.isOpen) throw new TransportError(`flow ${this.flow.id} is closed`);
    if (socket.writableLength > context.limits.maxWriteBuffer) {
      context.logger.warn(
        { flow: this.flow.id, queued: socket.writableLength },
        'closing SIP connection: peer not reading',
      );
      socket.destroy();
      throw new TransportError(`flow ${this.flow.id} dropped: peer not reading`);
    }
    socket.write(data);
    if (context.trace !== undefined) this.traceSafely('out', data);
  }

  /** A registered flow is exempt from the idle timeout (the registration keeps it alive). */
  setRegistered(registered: boolean): void {
    if (registered === this.registered) return;
    this.registered = registered;
    this.socket.setTimeout(registered ? 0 : this.context.limits.idleTimeoutMs);
  }

  /** Closes the connection at once. */
  close(): void {
    this.socket.destroy();
  }

  /** @internal framer callback */
  onMessage(message: Buffer): void {
    if (this.socket.destroyed) return;
    const { context } = this;
    if (context.trace !== undefined) this.traceSafely('in', message);
    try {
      context.delegate.onMessage(message, this.flow);
    } catch (err) {
      context.logger.warn({ flow: this.flow.id, err }, 'SIP message handler threw');
    }
  }

  /** @internal framer callback */
  onPing(): void {
    if (this.isOpen) this.socket.write(CRLF_PONG);
  }

  /**
   * @internal framer callback. The stream cannot be read past this point, but what was read before
   * is being answered (a REGISTER parsed from the same write waits for its 401), and the broken
   * request itself gets a 400 when its header section was complete: reading stops now, and the
   * connection is ended gracefully after FRAMING_ERROR_LINGER_MS, its answers flushed first.
   */
  onError(error: StreamFramingError): void {
    const { context, socket } = this;
    context.logger.debug(
      { flow: this.flow.id, remote: this.flow.remote, reason: error.reason },
      'closing SIP connection: framing error',
    );
    if (socket.destroyed) return;
    socket.pause();
    socket.removeAllListeners('data');
    if (error.head !== undefined && context.delegate.onUnframed !== undefined) {
      try {
        context.delegate.onUnframed(error.head, error.reason, this.flow);
      } catch (err) {
        context.logger.warn({ flow: this.flow.id, err }, 'SIP unframed handler threw');
      }
    }
    const linger = setTimeout(() => {
      socket.end();
      // A peer that never reads must not hold the socket open.
      setTimeout(() => socket.destroy(), FRAMING_ERROR_LINGER_MS).unref();
    }, FRAMING_ERROR_LINGER_MS);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
  }

  private onIdle(): void {
    if (this.registered) return;
    this.context.logger.debug({ flow: this.flow.id }, 'closing idle SIP connection');
    this.socket.destroy();
  }

  private traceSafely(direction: 'in' | 'out', data: Buffer): void {
    try {
      this.context.trace?.(direction, data, this.flow);
    } catch (err) {
      this.context.logger.warn({ err }, 'SIP trace hook threw');
    }
  }
}
