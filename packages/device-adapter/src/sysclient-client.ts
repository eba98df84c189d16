/**
 * The configuration session of one phone (`/api/v1/sysclients`): identifies with the code on
 * first contact, stores the device password it then receives through the {@link PasswordStore}
 * hook, and identifies with HMAC(password, nonce) on every later connection. Collects SetConfig
 * frames until `last: true` and emits the whole configuration, secrets decrypted, each time.
 */
import { decryptSecret, identifyAuth } from './adapter-crypto.js';
import {
  SYSCLIENT_PATH,
  normalizeMac,
  type DeviceConfig,
  type ErrorFrame,
  type MediaConfig,
  type NtpConfig,
  type PhoneConfig,
  type SetConfigFrame,
  type SipConfig,
  type SipLineConfig,
  type TlsProfileConfig,
} from './adapter-protocol.js';
import type { PasswordStore } from './password-store.js';
import { ExponentialBackoff } from './reconnect-policy.js';
import { ReconnectingSocket, endpointUrl, type SocketOptions } from './reconnecting-socket.js';
import { TypedEmitter } from './typed-emitter.js';

/** One SIP line with its password in clear. */
export type PhoneLine = Omit<SipLineConfig, 'seed'>;

/** A phone's configuration as the adapter uses it: every type received so far, secrets decrypted. */
export interface PhoneConfiguration {
  phone?: Omit<PhoneConfig, 'type'>;
  media?: Omit<MediaConfig, 'type' | 'turnSeed'>;
  tlsProfile?: Omit<TlsProfileConfig, 'type'>;
  ntp?: Omit<NtpConfig, 'type'>;
  sip?: Omit<SipConfig, 'type' | 'lines'> & { lines: PhoneLine[] };
}

/** Events of {@link SysclientClient}. */
export type SysclientEvents = {
  /** Identified; `first` after a code (the password was just stored). */
  identified: [first: boolean];
  /** A batch ended with `last: true`: the whole configuration, and which types the batch changed. */
  config: [config: PhoneConfiguration, changed: DeviceConfig['type'][]];
  error: [error: ErrorFrame];
  disconnected: [code: number, reason: string, willRetry: boolean];
};

/** Options of {@link SysclientClient}. */
export interface SysclientClientOptions extends SocketOptions {
  mac: string;
  /** The code of ProvisioningPhone (first contact); without it the stored password is used. */
  code?: string | undefined;
  passwords: PasswordStore;
  product: string;
  version: string;
}

/** Errors after which trying again cannot help (the phone must be provisioned again). */
const FATAL = new Set(['IDENTIFY_FAILED', 'CODE_EXPIRED', 'FORBIDDEN']);

/** See the file comment. */
export class SysclientClient extends TypedEmitter<SysclientEvents> {
  readonly #socket: ReconnectingSocket;
  readonly #mac: string;
  #code: string | undefined;
  #password: string | undefined;
  #config: PhoneConfiguration = {};
  #batch: DeviceConfig['type'][] = [];
  #identified = false;
  #nonce: string | undefined;
  #retry: NodeJS.Timeout | undefined;
  /** The current connection identified with the stored password. */
  #byAuth = false;

  constructor(private readonly o: SysclientClientOptions) {
    super();
    const mac = normalizeMac(o.mac);
    if (!mac) throw new TypeError(`not a MAC: ${o.mac}`);
    this.#mac = mac;
    this.#code = o.code;
    this.#socket = new ReconnectingSocket(
      endpointUrl(o.url, SYSCLIENT_PATH),
      o,
      o.reconnect ?? new ExponentialBackoff(),
      {
        onOpen: () => undefined,
        onFrame: (f) => void this.#onFrame(f).catch(() => this.#socket.drop()),
        onClose: (code, reason, willRetry) => {
          this.#identified = false;
          this.emit('disconnected', code, reason, willRetry);
        },
      },
    );
  }

  /** The latest full configuration. */
  get config(): PhoneConfiguration {
    return this.#config;
  }

  /** Connects (and keeps connecting). */
  start(): this {
    this.#socket.start();
    return this;
  }

  /** Disconnects for good. */
  close(): void {
    clearTimeout(this.#retry);
    this.#socket.close();
  }

  /** Sends any frame (tests of the protocol's refusals). */
  sendRaw(frame: object): boolean {
    return this.#socket.send(frame);
  }

  async #onFrame(f: Record<string, unknown>): Promise<void> {
    switch (f.mt) {
      case 'Hello':
        clearTimeout(this.#retry);
        return this.#identify(String(f.nonce));
      case 'SetManagerPassword': {
        if (this.#code === undefined) return;
        const password = decryptSecret(this.#code, String(f.seed), String(f.password));
        await this.o.passwords.set(this.#mac, password);
        this.#password = password;
        // The code is spent: every later connection proves the password.
        this.#code = undefined;
        this.emit('identified', true);
        return;
      }
      case 'SetConfig':
        return this.#onConfig(f as unknown as SetConfigFrame);
      case 'Error': {
        const e = f as unknown as ErrorFrame;
        this.emit('error', e);
        if (!this.#identified && FATAL.has(e.code)) this.close();
        // Too many Identify frames from this address (a gateway reconnecting many phones): the
        // nonce is still good, so the same Identify goes again a little later.
        else if (!this.#identified && e.code === 'RATE_LIMITED' && this.#nonce !== undefined) {
          const nonce = this.#nonce;
          const retry = setTimeout(
            () => void this.#identify(nonce).catch(() => this.#socket.drop()),
            500 + Math.random() * 1500,
          );
          this.#retry = retry;
        }
        return;
      }
      default:
        return;
    }
  }

  async #identify(nonce: string): Promise<void> {
    this.#nonce = nonce;
    if (!this.#socket.open) return;
    const base = {
      mt: 'Identify',
      mac: this.#mac,
      product: this.o.product,
      version: this.o.version,
      info: { type: 'PHONE' },
    };
    this.#byAuth = this.#code === undefined;
    if (this.#code !== undefined) {
      this.#socket.send({ ...base, code: this.#code });
      return;
    }
    this.#password ??= await this.o.passwords.get(this.#mac);
    if (this.#password === undefined) {
      this.emit('error', {
        mt: 'Error',
        code: 'IDENTIFY_FAILED',
        message: 'no code and no stored password for this MAC',
      });
      this.close();
      return;
    }
    this.#socket.send({ ...base, auth: identifyAuth(this.#password, nonce) });
  }

  #onConfig(f: SetConfigFrame): void {
    const password = this.#password;
    if (password === undefined) return;
    if (!this.#identified) {
      this.#identified = true;
      if (this.#byAuth) this.emit('identified', false);
    }
    const c = f.config;
    switch (c.type) {
      case 'PHONE':
        this.#config.phone = { coder: c.coder };
        break;
      case 'MEDIA':
        this.#config.media = {
          stunServer: c.stunServer,
          turnServer: c.turnServer,
          turnUser: c.turnUser,
          turnPassword: c.turnPassword ? decryptSecret(password, c.turnSeed, c.turnPassword) : '',
        };
        break;
      case 'TLS_PROFILE':
        this.#config.tlsProfile = { profile: c.profile };
        break;
      case 'NTP':
        this.#config.ntp = { tz: c.tz, ntp1: c.ntp1, ntp2: c.ntp2 };
        break;
      case 'SIP':
        this.#config.sip = {
          server: c.server,
          port: c.port,
          transport: c.transport,
          lines: c.lines.map(({ seed, ...l }) => ({ ...l, password: decryptSecret(password, seed, l.password) })),
        };
        break;
      default:
        return;
    }
    this.#batch.push(c.type);
    if (f.last) {
      const changed = this.#batch;
      this.#batch = [];
      this.emit('config', structuredClone(this.#config), changed);
    }
  }
}
