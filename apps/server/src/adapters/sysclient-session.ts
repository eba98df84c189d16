/** The configuration session of one phone (`/api/v1/sysclients`). */
import { createHmac, randomBytes } from 'node:crypto';
import {
  CONFIG_TYPES,
  encryptSecret,
  type ConfigType,
  type DeviceConfig,
  type SysclientServerFrame,
} from '@handset/device-adapter';
import type { RawData } from 'ws';
import type { Principal } from '../directory/principal.js';
import { AdapterProtocolError } from './adapter-error.js';
import {
  CLOSE_POLICY_VIOLATION,
  CLOSE_REMOVED,
  CLOSE_REPLACED,
  MAX_IDENTIFY_FAILURES,
  isToken,
  sendError,
  unknownMt,
  type Peer,
} from './adapter-frames.js';
import type { AdapterGateway } from './adapter-gateway.js';
import type { PlainConfig, SysclientLink } from './adapter-service.js';

/** See the file comment. */
export class SysclientSession implements SysclientLink {
  private nonce = '';
  private identifying = false;
  private failures = 0;
  private identity: { phoneId: string; password: string } | undefined;
  /** Per-type digests of what the phone has, to send only what changed. */
  private readonly sent = new Map<ConfigType, string>();
  /** A per-session key for those digests, so they say nothing about the secrets inside. */
  private readonly digestKey = randomBytes(32);
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly gw: AdapterGateway,
    private readonly peer: Peer,
    private readonly scope: Principal | undefined,
  ) {
    peer.ws.on('message', (data: RawData, isBinary: boolean) => {
      const frame = gw.frameOf(peer, data, isBinary);
      if (frame) this.handle(frame).catch((err: unknown) => this.fail(err));
    });
    peer.ws.once('close', () => {
      if (this.identity) gw.service.detachSysclient(this);
    });
    this.hello();
  }

  get phoneId(): string {
    return this.identity?.phoneId ?? '';
  }

  refresh(): void {
    this.queue(false);
  }

  replaced(): void {
    sendError(this.peer.ws, 'REPLACED', 'another configuration session opened for this phone');
    this.identity = undefined;
    this.peer.ws.close(CLOSE_REPLACED, 'replaced by a newer session');
  }

  removed(): void {
    sendError(this.peer.ws, 'FORBIDDEN', 'this phone was removed from Handset');
    this.identity = undefined;
    this.peer.ws.close(CLOSE_REMOVED, 'phone removed');
  }

  private hello(): void {
    this.nonce = randomBytes(16).toString('hex');
    this.send({ mt: 'Hello', nonce: this.nonce });
  }

  private send(frame: SysclientServerFrame): void {
    if (this.peer.ws.readyState === this.peer.ws.OPEN) this.peer.ws.send(JSON.stringify(frame));
  }

  private async handle(frame: Record<string, unknown>): Promise<void> {
    if (frame.mt !== 'Identify') throw unknownMt(frame.mt as string, ['Identify']);
    if (!this.gw.mayIdentify(this.peer.ip))
      throw new AdapterProtocolError('RATE_LIMITED', 'too many Identify frames from this address; wait a second');
    if (this.identity !== undefined)
      throw new AdapterProtocolError('ALREADY_IDENTIFIED', 'this session has identified already');
    if (this.identifying) throw new AdapterProtocolError('BAD_FRAME', 'wait for the answer to the previous Identify');
    const { mac, product, version, code, auth, info } = frame;
    if (typeof mac !== 'string' || mac.length > 32)
      throw new AdapterProtocolError('BAD_FRAME', 'Identify needs a string mac');
    if ((code === undefined) === (auth === undefined))
      throw new AdapterProtocolError('BAD_FRAME', 'Identify needs either code (first contact) or auth (reconnect)');
    if ((code !== undefined && !isToken(code)) || (auth !== undefined && !isToken(auth)))
      throw new AdapterProtocolError('BAD_FRAME', 'code and auth must be strings of up to 128 characters');
    if ((info as { type?: unknown } | undefined)?.type !== 'PHONE')
      throw new AdapterProtocolError('BAD_FRAME', 'Identify needs info.type "PHONE"');
    // The nonce answers one Identify; a failed one gets a new Hello.
    const nonce = this.nonce;
    this.nonce = '';
    this.identifying = true;
    try {
      const who = await this.gw.service.identify({
        mac,
        nonce,
        code,
        auth,
        product: typeof product === 'string' ? product : '',
        version: typeof version === 'string' ? version : '',
        scope: this.scope,
      });
      if (this.peer.ws.readyState !== this.peer.ws.OPEN) return;
      this.identity = { phoneId: who.phoneId, password: who.password };
      if (who.managerPassword) this.send({ mt: 'SetManagerPassword', ...who.managerPassword });
      this.gw.service.attachSysclient(this);
      this.queue(true);
    } catch (err) {
      if (++this.failures >= MAX_IDENTIFY_FAILURES) {
        this.fail(err);
        this.peer.ws.close(CLOSE_POLICY_VIOLATION, 'too many failed Identify frames');
        return;
      }
      this.fail(err);
      this.hello();
    } finally {
      this.identifying = false;
    }
  }

  private fail(err: unknown): void {
    if (err instanceof AdapterProtocolError) return sendError(this.peer.ws, err.code, err.message);
    this.gw.logger.error({ err }, 'sysclient frame failed');
    sendError(this.peer.ws, 'UNAVAILABLE', 'the frame could not be handled now; try again');
  }

  /** Sends the configuration (all of it, or what changed), one batch at a time. */
  private queue(all: boolean): void {
    this.chain = this.chain
      .then(() => this.sendConfigs(all))
      .catch((err: unknown) => this.gw.logger.error({ err, phone: this.phoneId }, 'sending a configuration failed'));
  }

  private async sendConfigs(all: boolean): Promise<void> {
    const identity = this.identity;
    if (!identity) return;
    const plain = await this.gw.service.configOf(identity.phoneId);
    if (!plain || this.identity !== identity) return;
    const batch = CONFIG_TYPES.map((type) => ({ type, digest: this.digest(plainOf(plain, type)) })).filter(
      (c) => all || this.sent.get(c.type) !== c.digest,
    );
    if (batch.length === 0) return;
    for (const [i, c] of batch.entries()) {
      this.send({
        mt: 'SetConfig',
        config: sealConfig(plain, c.type, identity.password),
        last: i === batch.length - 1,
      });
      this.sent.set(c.type, c.digest);
    }
    await this.gw.service.configSent(identity.phoneId, summaryOf(plain));
  }

  private digest(value: unknown): string {
    return createHmac('sha256', this.digestKey).update(JSON.stringify(value)).digest('hex');
  }
}

/**
 * What decides whether one config type changed. TURN REST credentials are new at every build
 * (their expiry is in the user name), so MEDIA counts as changed only when its servers do; the
 * phone gets fresh credentials with every batch that includes MEDIA and on every reconnect.
 */
function plainOf(p: PlainConfig, type: ConfigType): unknown {
  switch (type) {
    case 'PHONE':
      return p.phone;
    case 'MEDIA':
      return { stunServer: p.media.stunServer, turnServer: p.media.turnServer, turn: p.media.turnUser !== '' };
    case 'TLS_PROFILE':
      return p.tlsProfile;
    case 'NTP':
      return p.ntp;
    case 'SIP':
      return p.sip;
  }
}

/** The SetConfig `config` of one type, secrets encrypted with the device password. */
function sealConfig(p: PlainConfig, type: ConfigType, password: string): DeviceConfig {
  switch (type) {
    case 'PHONE':
      return { type, coder: p.phone.coder };
    case 'MEDIA': {
      const turn = p.media.turnPassword ? encryptSecret(password, p.media.turnPassword) : { seed: '', value: '' };
      return {
        type,
        stunServer: p.media.stunServer,
        turnServer: p.media.turnServer,
        turnUser: p.media.turnUser,
        turnPassword: turn.value,
        turnSeed: turn.seed,
      };
    }
    case 'TLS_PROFILE':
      return { type, profile: p.tlsProfile.profile };
    case 'NTP':
      return { type, ...p.ntp };
    case 'SIP':
      return {
        type,
        server: p.sip.server,
        port: p.sip.port,
        transport: p.sip.transport,
        lines: p.sip.lines.map((l) => {
          const s = encryptSecret(password, l.password);
          return { ...l, password: s.value, seed: s.seed };
        }),
      };
  }
}

/** What the API shows of the last configuration: no secret, only whether there is one. */
function summaryOf(p: PlainConfig): Record<string, unknown> {
  return {
    PHONE: p.phone,
    MEDIA: { ...p.media, turnPassword: p.media.turnPassword ? 'set' : '' },
    TLS_PROFILE: p.tlsProfile,
    NTP: p.ntp,
    SIP: {
      ...p.sip,
      lines: p.sip.lines.map((l) => ({ line: l.line, user: l.user, domain: l.domain, displayName: l.displayName })),
    },
  };
}
