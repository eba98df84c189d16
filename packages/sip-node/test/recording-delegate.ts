import { connect, type Socket } from 'node:net';
import type { Flow, TransportDelegate } from '@handset/sip';

/** A TransportDelegate for tests: records what arrives and lets a test await it. */
export class RecordingDelegate implements TransportDelegate {
  readonly messages: { text: string; data: Buffer; flow: Flow }[] = [];
  readonly closed: Flow[] = [];
  private readonly waiters = new Set<() => void>();

  onMessage(data: Buffer, flow: Flow): void {
    this.messages.push({ text: data.toString('utf8'), data, flow });
    this.notify();
  }

  onFlowClosed(flow: Flow): void {
    this.closed.push(flow);
    this.notify();
  }

  /** Resolves once `count` messages have arrived (in total); rejects after `timeoutMs`. */
  async messagesArrived(count: number, timeoutMs = 3000): Promise<{ text: string; data: Buffer; flow: Flow }[]> {
    await this.until(() => this.messages.length >= count, timeoutMs, `${count} messages`);
    return this.messages;
  }

  /** Resolves once the flow with `id` has been reported closed. */
  async flowClosed(id: string, timeoutMs = 3000): Promise<void> {
    await this.until(() => this.closed.some((f) => f.id === id), timeoutMs, `close of ${id}`);
  }

  private until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what} (have ${this.messages.length} messages)`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** A SIP message with a correct byte Content-Length. */
export function sipMessage(method: string, body = '', extra = ''): string {
  return (
    `${method} sip:alice@example.com SIP/2.0\r\n` +
    'Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-test\r\n' +
    `Call-ID: ${method.toLowerCase()}-${Math.random().toString(36).slice(2)}\r\n` +
    extra +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
    body
  );
}

/** A raw TCP client that records every byte it receives and whether the server closed it. */
export interface RawClient {
  readonly socket: Socket;
  received(): string;
  /** Resolves when the received bytes satisfy `predicate`. */
  receivedUntil(predicate: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  readonly closed: Promise<void>;
  isClosed(): boolean;
}

/** Connects a raw TCP client; resolves once connected (or once closed, if the server closes it first). */
export function rawClient(port: number, host: string, socket?: Socket): Promise<RawClient> {
  const s = socket ?? connect({ port, host });
  let data = '';
  let closed = false;
  const listeners = new Set<() => void>();
  s.on('data', (chunk: Buffer) => {
    data += chunk.toString('utf8');
    for (const l of [...listeners]) l();
  });
  s.on('error', () => {});
  const closedPromise = new Promise<void>((resolve) =>
    s.once('close', () => {
      closed = true;
      resolve();
    }),
  );
  const client: RawClient = {
    socket: s,
    received: () => data,
    receivedUntil: (predicate, timeoutMs = 3000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (!predicate(data)) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(data);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out; received so far: ${JSON.stringify(data)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
    closed: closedPromise,
    isClosed: () => closed,
  };
  const ready = socket === undefined ? 'connect' : 'secureConnect';
  return new Promise((resolve) => {
    s.once(ready, () => resolve(client));
    s.once('close', () => resolve(client));
  });
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
