/**
 * The provider session (`/api/v1/adapters`): registers the adapter, receives ProvisioningPhone
 * one at a time (the password already decrypted), and answers ProvisioningPhoneResult.
 * Reconnects with back-off and registers again; Handset then re-sends the job it awaits.
 */
import { decryptSecret } from './adapter-crypto.js';
import { PROVIDER_PATH, PROVISIONING_API, type ErrorFrame, type ProvisioningPhoneFrame } from './adapter-protocol.js';
import { ExponentialBackoff } from './reconnect-policy.js';
import { ReconnectingSocket, endpointUrl, type SocketOptions } from './reconnecting-socket.js';
import { TypedEmitter } from './typed-emitter.js';

/** A ProvisioningPhone with its SIP password in clear. */
export interface ProvisioningPhone extends Omit<ProvisioningPhoneFrame, 'mt' | 'seed' | 'password'> {
  /** The first line's SIP password, decrypted. */
  password: string;
}

/** Events of {@link ProviderClient}. */
export type ProviderClientEvents = {
  /** Registered (again): the adapter's id. */
  registered: [id: string];
  provisioningPhone: [phone: ProvisioningPhone];
  /** An Error frame from Handset. */
  error: [error: ErrorFrame];
  disconnected: [code: number, reason: string, willRetry: boolean];
};

/** Options of {@link ProviderClient}. */
export interface ProviderClientOptions extends SocketOptions {
  token: string;
  /** The adapter's title; with the token's domain it names the adapter (same title: same adapter). */
  title: string;
}

/** See the file comment. */
export class ProviderClient extends TypedEmitter<ProviderClientEvents> {
  readonly #socket: ReconnectingSocket;
  #id: string | undefined;

  constructor(private readonly o: ProviderClientOptions) {
    super();
    this.#socket = new ReconnectingSocket(
      endpointUrl(o.url, PROVIDER_PATH),
      o,
      o.reconnect ?? new ExponentialBackoff(),
      {
        onOpen: () => this.#socket.send({ mt: 'Register', apis: { [PROVISIONING_API]: { title: o.title } } }),
        onFrame: (f) => this.#onFrame(f),
        onClose: (code, reason, willRetry) => this.emit('disconnected', code, reason, willRetry),
      },
    );
  }

  /** The id Handset gave this adapter (after `registered`). */
  get id(): string | undefined {
    return this.#id;
  }

  /** Connects (and keeps connecting). */
  start(): this {
    this.#socket.start();
    return this;
  }

  /** Reports a phone done; Handset then sends the next. False when not connected (it re-sends the job). */
  sendResult(id: string, result: 'ok' | 'error', error?: string): boolean {
    return this.#socket.send({ mt: 'ProvisioningPhoneResult', id, result, ...(error ? { error } : {}) });
  }

  /** Sends any frame (tests of the protocol's refusals). */
  sendRaw(frame: object): boolean {
    return this.#socket.send(frame);
  }

  /** Disconnects for good. */
  close(): void {
    this.#socket.close();
  }

  #onFrame(f: Record<string, unknown>): void {
    switch (f.mt) {
      case 'Registered':
        this.#id = String(f.id);
        this.emit('registered', this.#id);
        return;
      case 'ProvisioningPhone': {
        const frame = f as unknown as ProvisioningPhoneFrame;
        let password: string;
        try {
          password = decryptSecret(this.o.token, frame.seed, frame.password);
        } catch {
          this.sendResult(frame.id, 'error', 'the password did not decrypt with this token');
          return;
        }
        const { mt: _mt, seed: _seed, password: _sealed, ...rest } = frame;
        this.emit('provisioningPhone', { ...rest, password });
        return;
      }
      case 'Error':
        this.emit('error', f as unknown as ErrorFrame);
        return;
      default:
        return;
    }
  }
}
