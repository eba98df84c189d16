import type { Principal } from '../directory/principal.js';
import type { ActivationCodec } from './activation-codec.js';
import { activationLinks } from './activation-links.js';
import type { DeviceRepository } from './device-repository.js';
import { ProvisioningError } from './provisioning-error.js';
import type { ExtensionRef, ProvisioningAudit, ProvisioningDirectory } from './provisioning-ports.js';
import type { ProvisioningSettings } from './sessiontalk-settings.js';
import { renderQr } from './qr-images.js';

/** An extension the viewer may activate, with how many apps it is on. */
export interface ActivatableExtension extends ExtensionRef {
  activations: number;
}

/** A code as handed to the console, the web phone or the CLI. */
export interface ActivationCodeView {
  codeId: string;
  ext: string;
  domain: string;
  /** `scsc:...`, what the QR encodes. */
  qrText: string;
  expiresAt: Date;
  /** The Windows softphone link, when the domain offers it. */
  windowsLink: string | undefined;
  png: Buffer;
  svg: string;
}

/** Dependencies of {@link ActivationCodeService}. */
export interface ActivationCodeServiceOptions {
  codec: ActivationCodec;
  devices: DeviceRepository;
  directory: ProvisioningDirectory;
  settings: ProvisioningSettings;
  audit: ProvisioningAudit;
  /** Base URL apps reach Handset at (`https://pbx.example.com`), for the .appinstaller link. */
  publicUrl: string;
  clock?: () => number;
}

/**
 * Who may activate what, and issuing codes. The seed's `sessiontalk_view_all` is the owner and
 * admin roles (any extension of their domain; superadmin any domain); `sessiontalk_view` is the
 * agent role: the own extension plus extensions added as lines to the agent's own apps.
 * An extension the viewer may not see and one that does not exist get the same NOT_FOUND.
 */
export class ActivationCodeService {
  readonly #o: ActivationCodeServiceOptions;
  readonly #clock: () => number;

  constructor(o: ActivationCodeServiceOptions) {
    this.#o = o;
    this.#clock = o.clock ?? Date.now;
  }

  /** True when the principal holds `sessiontalk_view_all` for `domainId`. */
  static viewsAll(p: Principal, domainId: string): boolean {
    return p.role === 'superadmin' || ((p.role === 'owner' || p.role === 'admin') && p.domainId === domainId);
  }

  /** Extensions the viewer may activate, in `domainId` (default: the viewer's own domain). */
  async listActivatable(p: Principal, domainId?: string): Promise<ActivatableExtension[]> {
    const target = domainId ?? p.domainId;
    if (target === undefined) throw new ProvisioningError('INVALID_INPUT', 'name the domain (domainId) to list');
    if (p.role !== 'superadmin' && p.domainId !== target) return [];
    const all = await this.#o.directory.listExtensions(target);
    const visible = ActivationCodeService.viewsAll(p, target) ? all : await this.#assigned(p, all);
    return Promise.all(
      visible.map(async (e) => ({ ...e, activations: await this.#o.devices.countActivations(e.userId) })),
    );
  }

  /** Issues a code for ext@domain, if the viewer may activate it. */
  async create(p: Principal, domain: string, ext: string): Promise<ActivationCodeView> {
    const target = await this.#o.directory.findExtension(domain, ext);
    const allowed =
      target !== undefined &&
      (ActivationCodeService.viewsAll(p, target.domainId) ||
        (p.domainId === target.domainId && (await this.#assigned(p, [target])).length > 0));
    if (!target || !allowed) throw new ProvisioningError('NOT_FOUND', `no extension ${ext}@${domain} you may activate`);
    const s = await this.#o.settings.get(target.domainId);
    const issued = this.#o.codec.issue({
      domainId: target.domainId,
      ext: target.ext,
      nowS: Math.floor(this.#clock() / 1000),
      lifetimeS: s.qrExpirationS,
      periodS: s.keyRotationS,
    });
    const qrText = activationLinks.qrText(target.ext, target.domain, issued.token, s.providerId);
    const windowsLink = s.windowsSoftphone
      ? activationLinks.windowsLink(
          target.ext,
          target.domain,
          issued.token,
          s.providerId,
          this.#o.publicUrl + activationLinks.appinstallerPath(target.domain),
        )
      : undefined;
    const images = await renderQr(qrText);
    await this.#o.audit.record(p, {
      action: 'create',
      resource: 'activation_code',
      resourceId: issued.codeId,
      domainId: target.domainId,
      detail: { ext: target.ext, expiresAt: new Date(issued.expiresAt * 1000).toISOString() },
    });
    return {
      codeId: issued.codeId,
      ext: target.ext,
      domain: target.domain,
      qrText,
      expiresAt: new Date(issued.expiresAt * 1000),
      windowsLink,
      ...images,
    };
  }

  /** Of `candidates`, those assigned to an agent: the own extension and lines of the own apps. */
  async #assigned(p: Principal, candidates: ExtensionRef[]): Promise<ExtensionRef[]> {
    if (p.userId === undefined) return [];
    const onOwnApps = new Set<string>();
    for (const d of await this.#o.devices.list({ domainId: p.domainId, userId: p.userId }))
      if (d.lines[0]?.userId === p.userId) for (const l of d.lines) onOwnApps.add(l.userId);
    return candidates.filter((e) => e.userId === p.userId || onOwnApps.has(e.userId));
  }
}
