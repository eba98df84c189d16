import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Principal } from '../directory/principal.js';
import type { Transaction } from '../store/store.js';
import type { ActivationCodec } from './activation-codec.js';
import type { AnswerLine, DeviceForAnswer, DeviceRepository, DeviceRow } from './device-repository.js';
import { deviceTemplateFor } from './device-template.js';
import { ProvisioningError } from './provisioning-error.js';
import { isUniqueViolation } from './provisioning-input.js';
import type { ExtensionRef, ProvisioningAudit, ProvisioningDirectory, SrvResolver } from './provisioning-ports.js';
import type { ProvisioningSettings, SessionTalkFlag, SessionTalkTransport } from './sessiontalk-settings.js';

/** One request of the SessionTalk cloud (or the web phone), already checked for shape. */
export interface ProvisionRequest {
  ext: string;
  domain: string;
  /** The activation token (SessionTalk's "password"). */
  token: string;
  /** The app installation's unique id. */
  appDeviceId: string;
  /** false on first set-up, true on every later start or return to foreground. */
  reprovision: boolean;
  /** Source address, for the device record and the audit log. */
  ip: string;
}

/** A SIP account in SessionTalk's provisioning answer. */
export interface SessionTalkAccount {
  sipusername: string;
  sippassword: string;
  subdomain: string;
  authusername: string;
  transport: 'UDP' | 'TCP' | 'TLS';
  srtp: SessionTalkFlag;
  messaging: SessionTalkFlag;
  video: SessionTalkFlag;
  callrecording: SessionTalkFlag;
}

/** The JSON SessionTalk expects. `update: true` with no accounts logs the app out. */
export interface ProvisionBody {
  update: boolean;
  errmsg: string;
  sipaccounts: SessionTalkAccount[];
}

/** HTTP status and body of an answer. */
export interface ProvisionAnswer {
  status: 200 | 403;
  body: ProvisionBody;
}

/** Dependencies of {@link ProvisioningService}. */
export interface ProvisioningServiceOptions {
  devices: DeviceRepository;
  codec: ActivationCodec;
  directory: ProvisioningDirectory;
  settings: ProvisioningSettings;
  audit: ProvisioningAudit;
  logger: Logger;
  /** Milliseconds since the epoch. */
  clock?: () => number;
  /** The ports Handset listens on per transport, to warn when the app cannot find one (see below). */
  sipPorts?: Partial<Record<SessionTalkTransport, number>>;
  /** SRV look-up; default none (no warnings about missing records). */
  resolveSrv?: SrvResolver | undefined;
}

/** Messages the app shows; refusals name the reason without saying whether an extension exists. */
export const PROVISION_MESSAGES = {
  activated: 'Valid Activation',
  reactivated: 'Re-Activated Existing Device',
  moved: 'Activation Moved To This Device',
  provisioned: 'Provisioned',
  invalidCode: 'Invalid activation code',
  expiredCode: 'Expired activation code',
  maxDevices: 'Max Devices Exceeded',
  invalidDevice: 'Invalid Device',
  disabled: 'Device Disabled',
  noLines: 'No Lines Enabled',
} as const;

const DEFAULT_PORT: Record<SessionTalkTransport, number> = { udp: 5060, tcp: 5060, tls: 5061 };
const SRV_NAME: Record<SessionTalkTransport, string> = { udp: '_sip._udp', tcp: '_sip._tcp', tls: '_sips._tcp' };
const SRV_CACHE_MS = 5 * 60_000;

type Activation =
  | { kind: 'refused'; reason: string; message: string }
  | { kind: 'done'; device: DeviceRow; message: string; reason: string; deleted: DeviceRow[] };

/**
 * The SessionTalk external-provisioning protocol with the seed's activation rules. The app sends
 * its code (token) and installation id; a code opens only for its own domain, once per app at a
 * time, until it expires. Every activation, refusal and deactivation goes to the audit log.
 */
export class ProvisioningService {
  readonly #o: ProvisioningServiceOptions;
  readonly #clock: () => number;
  readonly #srvChecked = new Map<string, number>();

  constructor(o: ProvisioningServiceOptions) {
    this.#o = o;
    this.#clock = o.clock ?? Date.now;
  }

  /** Answers one provisioning request. Never throws for bad input: refusals are answers. */
  async provision(req: ProvisionRequest): Promise<ProvisionAnswer> {
    const { devices, codec, directory } = this.#o;
    const domain = await directory.findDomain(req.domain);
    // An unknown domain answers exactly like a wrong code or a missing device of a known one.
    if (!domain) return req.reprovision ? logout(PROVISION_MESSAGES.invalidDevice) : invalidCode();
    const hash = codec.lookupHash(req.token);
    const { byCode, byApp } = await devices.findByCodeOrApp(domain.id, hash, req.appDeviceId);
    const paired = byCode !== undefined && byApp !== undefined && byCode.id === byApp.id && byCode.ext === req.ext;

    if (paired)
      return this.#answer(
        byCode,
        domain.domain,
        req,
        req.reprovision ? PROVISION_MESSAGES.provisioned : PROVISION_MESSAGES.reactivated,
      );
    if (req.reprovision) {
      // A deleted device, or a code that has since moved to another app: the app logs out.
      if (byApp) await devices.markProvisioned(byApp.id, new Date(this.#clock()), req.ip);
      await this.#audit(domain, 'deactivate', 'device', (byCode ?? byApp)?.id, {
        reason: byCode
          ? 'the activation moved to another app'
          : byApp
            ? 'this app was activated with another code'
            : 'no device for this app and code (deleted)',
        appDeviceId: req.appDeviceId,
        ip: req.ip,
      });
      return logout(PROVISION_MESSAGES.invalidDevice);
    }

    let result: Activation;
    try {
      result = await this.#activate(req, domain, hash);
    } catch (err) {
      // Two activations of one app (or one code) for different extensions raced past each
      // other's lock: the loser's insert hit a unique index. Once more sees the winner's device.
      if (!isUniqueViolation(err)) throw err;
      result = await this.#activate(req, domain, hash);
    }
    if (result.kind === 'refused') {
      await this.#audit(domain, 'refuse', 'activation', undefined, {
        reason: result.reason,
        username: `${req.ext}@${domain.domain}`,
        appDeviceId: req.appDeviceId,
        ip: req.ip,
      });
      return result.message === PROVISION_MESSAGES.invalidCode ? invalidCode() : logout(result.message);
    }
    for (const d of result.deleted) {
      await this.#audit(domain, 'deactivate', 'device', d.id, {
        reason: result.reason,
        appDeviceId: d.appDeviceId,
        template: d.template,
        replacedBy: result.device.id,
      });
    }
    await this.#audit(domain, 'activate', 'device', result.device.id, {
      reason: result.reason,
      ext: req.ext,
      template: result.device.template,
      codeId: result.device.codeId,
      appDeviceId: req.appDeviceId,
      ip: req.ip,
    });
    return this.#answer(result.device, domain.domain, req, result.message);
  }

  async #activate(req: ProvisionRequest, domain: { id: string; domain: string }, hash: string): Promise<Activation> {
    const nowS = Math.floor(this.#clock() / 1000);
    let claims;
    try {
      claims = this.#o.codec.open(req.token, domain.id, nowS);
    } catch (err) {
      if (!(err instanceof ProvisioningError)) throw err;
      const expired = err.code === 'CODE_EXPIRED' || err.code === 'KEY_RETIRED';
      return {
        kind: 'refused',
        reason: err.message,
        message: expired ? PROVISION_MESSAGES.expiredCode : PROVISION_MESSAGES.invalidCode,
      };
    }
    // The username travels beside the code; both must name the same extension.
    const ext = claims.ext === req.ext ? await this.#o.directory.findExtension(domain.domain, claims.ext) : undefined;
    if (!ext)
      return {
        kind: 'refused',
        reason: 'code does not match the username, or its extension is gone',
        message: PROVISION_MESSAGES.invalidCode,
      };
    const settings = await this.#o.settings.get(domain.id);
    const template = deviceTemplateFor(req.appDeviceId);
    const devices = this.#o.devices;
    try {
      return await devices.withExtensionLock(domain.id, ext.ext, async (tx) => {
        // Read again under the lock: a concurrent activation may have changed either.
        const { byCode, byApp } = await devices.findByCodeOrApp(domain.id, hash, req.appDeviceId, tx);
        if (byCode && !byApp) {
          // New app, previously used code: the device follows the code; the old app logs out.
          await devices.moveToApp(byCode.id, req.appDeviceId, template, tx);
          return {
            kind: 'done',
            device: { ...byCode, appDeviceId: req.appDeviceId, template, jsonMd5: null },
            message: PROVISION_MESSAGES.moved,
            reason: 'new app, previously used code',
            deleted: [],
          };
        }
        if (byCode && byApp && byCode.id === byApp.id) {
          // Same pair under another username cannot happen with a matching code; treat as paired.
          return {
            kind: 'done',
            device: byCode,
            message: PROVISION_MESSAGES.reactivated,
            reason: 'code and app used together before',
            deleted: [],
          };
        }
        const deleted = [byApp, byCode].filter((d): d is DeviceForAnswer => d !== undefined);
        await devices.delete(
          deleted.map((d) => d.id),
          tx,
        );
        const reason =
          byApp && byCode
            ? 'existing app and used code, not used together'
            : byApp
              ? 'existing app, fresh code'
              : 'new app, fresh code';
        await this.#checkMaxActivations(ext, settings.maxActivations, tx);
        const device = await devices.create(
          {
            domainId: domain.id,
            template,
            appDeviceId: req.appDeviceId,
            ext: ext.ext,
            label: `${ext.name ?? ext.ext} (${template})`,
            codeId: claims.codeId,
            codeHash: hash,
            codeExpiresAt: new Date(claims.expiresAt * 1000),
            line: { userId: ext.userId, ext: ext.ext, transport: settings.transport },
          },
          tx,
        );
        return { kind: 'done', device, message: PROVISION_MESSAGES.activated, reason, deleted };
      });
    } catch (err) {
      // Thrown inside the transaction so that a refusal also undoes the deletions above.
      if (err instanceof ProvisioningError && err.code === 'MAX_ACTIVATIONS')
        return { kind: 'refused', reason: err.message, message: PROVISION_MESSAGES.maxDevices };
      throw err;
    }
  }

  async #checkMaxActivations(ext: ExtensionRef, max: number, tx: Transaction): Promise<void> {
    if (max === 0) return;
    const active = await this.#o.devices.countActivations(ext.userId, tx);
    if (active >= max)
      throw new ProvisioningError(
        'MAX_ACTIVATIONS',
        `extension ${ext.ext} already has ${active} of ${max} activated apps`,
      );
  }

  /**
   * The accounts of an activated device (or why there are none); its enabled lines are read
   * unless the device comes with them.
   */
  async #answer(
    device: DeviceRow & { enabledLines?: AnswerLine[] },
    domain: string,
    req: ProvisionRequest,
    message: string,
  ): Promise<ProvisionAnswer> {
    const devices = this.#o.devices;
    const now = new Date(this.#clock());
    if (!device.enabled) {
      // Disabled: the app keeps what it has and gets no changes (line passwords included).
      await devices.markProvisioned(device.id, now, req.ip);
      return { status: 200, body: { update: false, errmsg: PROVISION_MESSAGES.disabled, sipaccounts: [] } };
    }
    const settings = await this.#o.settings.get(device.domainId);
    const accounts: SessionTalkAccount[] = [];
    for (const line of device.enabledLines ?? (await devices.lines(device.id, { enabledOnly: true }))) {
      const password = await this.#o.directory.getSipPassword(domain, line.ext);
      if (password === undefined) continue; // user removed or deactivated since
      this.#checkPort(domain, line.transport);
      accounts.push({
        sipusername: line.ext,
        sippassword: password,
        subdomain: domain.split('.')[0] ?? domain,
        authusername: line.ext,
        transport: line.transport.toUpperCase() as SessionTalkAccount['transport'],
        srtp: settings.srtp,
        messaging: 'Disabled',
        video: settings.video,
        callrecording: settings.callrecording,
      });
    }
    if (accounts.length === 0) {
      await devices.markProvisioned(device.id, now, req.ip);
      await this.#audit({ id: device.domainId, domain }, 'deactivate', 'device', device.id, {
        reason: 'no enabled lines',
        ip: req.ip,
      });
      return logout(PROVISION_MESSAGES.noLines);
    }
    const md5 = createHash('md5').update(JSON.stringify(accounts)).digest('hex');
    const update = md5 !== device.jsonMd5;
    if (update) await devices.markProvisioned(device.id, now, req.ip, md5);
    else
      // Nothing changed: the contact is written behind the answer (group commit), not awaited.
      devices
        .markProvisioned(device.id, now, req.ip)
        .catch((err: unknown) => this.#o.logger.warn({ err, device: device.id }, 'last contact not written'));
    return { status: 200, body: { update, errmsg: message, sipaccounts: accounts } };
  }

  /**
   * SessionTalk learns no port from the answer: the app dials the standard port of the transport
   * unless DNS has an SRV record for the full domain (no wildcards). When Handset listens
   * elsewhere and no such record points at its port, say so in the log, once per domain and
   * transport every few minutes.
   */
  #checkPort(domain: string, transport: SessionTalkTransport): void {
    const port = this.#o.sipPorts?.[transport];
    const resolve = this.#o.resolveSrv;
    if (port === undefined || port === DEFAULT_PORT[transport] || !resolve) return;
    const name = `${SRV_NAME[transport]}.${domain}`;
    const now = this.#clock();
    if ((this.#srvChecked.get(name) ?? 0) > now) return;
    this.#srvChecked.set(name, now + SRV_CACHE_MS);
    resolve(name).then(
      (records) => {
        if (!records.some((r) => r.port === port))
          this.#o.logger.warn(
            { srv: name, port },
            'no SRV record points at the SIP port: SessionTalk apps will dial the default port',
          );
      },
      () =>
        this.#o.logger.warn(
          { srv: name, port },
          'no SRV record for a non-default SIP port: SessionTalk apps will dial the default port',
        ),
    );
  }

  async #audit(
    domain: { id: string; domain: string },
    action: string,
    resource: string,
    resourceId: string | undefined,
    detail: Record<string, unknown>,
  ): Promise<void> {
    try {
      await this.#o.audit.record(appPrincipal(domain), { action, resource, resourceId, domainId: domain.id, detail });
    } catch (err) {
      // The answer to the app does not depend on the audit write; the failure is logged.
      this.#o.logger.error({ err, action, resource }, 'audit record failed');
    }
  }
}

/**
 * The actor of app-initiated changes: an app holding an activation code, a bearer token of its
 * own kind, so `via` is 'token' and the detail says which app.
 */
function appPrincipal(domain: { id: string; domain: string }): Principal {
  return {
    userId: undefined,
    email: undefined,
    role: 'agent',
    domainId: domain.id,
    domain: domain.domain,
    via: 'token',
  };
}

function logout(errmsg: string): ProvisionAnswer {
  return { status: 200, body: { update: true, errmsg, sipaccounts: [] } };
}

function invalidCode(): ProvisionAnswer {
  return { status: 403, body: { update: true, errmsg: PROVISION_MESSAGES.invalidCode, sipaccounts: [] } };
}
