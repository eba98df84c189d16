import type { Principal } from '../directory/principal.js';
import { ActivationCodeService } from './activation-code-service.js';
import type { DeviceRepository, DeviceWithLines } from './device-repository.js';
import { ProvisioningError } from './provisioning-error.js';
import type { ProvisioningAudit, ProvisioningDirectory } from './provisioning-ports.js';
import type { ProvisioningSettings, SessionTalkTransport } from './sessiontalk-settings.js';

/** A change of a device through the API. */
export interface DevicePatch {
  enabled?: boolean | undefined;
  /** null clears the stored hash: the next update recreates the app's accounts. */
  jsonMd5?: null | undefined;
}

/**
 * Activated devices as the console and web phone manage them. Owners and admins (and superadmin)
 * manage every device of their domain; an agent sees and may delete the apps activated for them.
 * Every change is audited; a device the viewer may not see is NOT_FOUND, like a missing one.
 */
export class DeviceService {
  constructor(
    private readonly o: {
      devices: DeviceRepository;
      directory: ProvisioningDirectory;
      settings: ProvisioningSettings;
      audit: ProvisioningAudit;
    },
  ) {}

  /** Devices the viewer may see, in `domainId` (default: the viewer's domain; superadmin: all). */
  async list(p: Principal, domainId?: string): Promise<DeviceWithLines[]> {
    const target = p.role === 'superadmin' ? domainId : p.domainId;
    if (p.role !== 'superadmin' && domainId !== undefined && domainId !== p.domainId) return [];
    if (target !== undefined && ActivationCodeService.viewsAll(p, target))
      return this.o.devices.list({ domainId: target });
    if (p.role === 'superadmin') return this.o.devices.list({});
    return (await this.o.devices.list({ domainId: target, userId: p.userId })).filter((d) => ownApp(p, d));
  }

  /** One device the viewer may see. */
  async get(p: Principal, id: string): Promise<DeviceWithLines> {
    const d = await this.o.devices.get(id);
    if (!d || !(ActivationCodeService.viewsAll(p, d.domainId) || ownApp(p, d))) throw notFound();
    return d;
  }

  /** Deletes a device: its app logs out at its next contact. */
  async delete(p: Principal, id: string): Promise<void> {
    const d = await this.get(p, id);
    await this.o.devices.delete([d.id]);
    await this.#audit(p, d, 'delete', {
      reason: 'deleted through the API',
      appDeviceId: d.appDeviceId,
      template: d.template,
    });
  }

  /** Enables or disables a device, or clears its json_md5. Managers only. */
  async update(p: Principal, id: string, patch: DevicePatch): Promise<DeviceWithLines> {
    const d = await this.#managed(p, id);
    const change: { enabled?: boolean; jsonMd5?: null } = {};
    if (patch.enabled !== undefined) change.enabled = patch.enabled;
    if (patch.jsonMd5 === null) change.jsonMd5 = null;
    if (Object.keys(change).length === 0)
      throw new ProvisioningError('INVALID_INPUT', 'nothing to change: send enabled and/or jsonMd5: null');
    await this.o.devices.update(d.id, change);
    await this.#audit(p, d, change.enabled === false ? 'disable' : change.enabled ? 'enable' : 'update', {
      reason: 'changed through the API',
      changed: Object.keys(change),
    });
    return (await this.o.devices.get(d.id))!;
  }

  /** Adds an extension of the device's domain as a line; the app gets it at its next update. Managers only. */
  async addLine(p: Principal, id: string, ext: string, transport?: SessionTalkTransport): Promise<DeviceWithLines> {
    const d = await this.#managed(p, id);
    const domain = (await this.o.directory.listExtensions(d.domainId)).find((e) => e.ext === ext);
    if (!domain) throw new ProvisioningError('NOT_FOUND', `no extension ${ext} in this device's domain`);
    const t = transport ?? (await this.o.settings.get(d.domainId)).transport;
    const added = await this.o.devices.addLine(d.id, {
      domainId: d.domainId,
      userId: domain.userId,
      ext: domain.ext,
      transport: t,
    });
    if (!added) throw new ProvisioningError('INVALID_INPUT', `the device already carries ${ext}`);
    await this.#audit(p, d, 'add_line', { reason: 'line added through the API', ext: domain.ext, transport: t });
    return (await this.o.devices.get(d.id))!;
  }

  async #managed(p: Principal, id: string): Promise<DeviceWithLines> {
    const d = await this.get(p, id);
    if (!ActivationCodeService.viewsAll(p, d.domainId))
      throw new ProvisioningError('FORBIDDEN', 'only an admin of the domain may change devices');
    return d;
  }

  async #audit(p: Principal, d: DeviceWithLines, action: string, detail: Record<string, unknown>): Promise<void> {
    await this.o.audit.record(p, { action, resource: 'device', resourceId: d.id, domainId: d.domainId, detail });
  }
}

/** An agent's own app: activated for (first line) the agent's extension. */
function ownApp(p: Principal, d: DeviceWithLines): boolean {
  return p.userId !== undefined && p.domainId === d.domainId && d.lines[0]?.userId === p.userId;
}

function notFound(): ProvisioningError {
  return new ProvisioningError('NOT_FOUND', 'no such device');
}
