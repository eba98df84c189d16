/**
 * Desk phones as admins manage them (API, CLI, console, device adapters): create by MAC, assign
 * lines and keys, override the domain's profile, search, delete, and check-sync. Owners and admins
 * manage the phones of their domain, superadmins every phone; a phone the viewer may not manage is
 * NOT_FOUND like a missing one. Every change reaches the in-memory catalog at once and, when it
 * alters what the phone's file says, sends the phone check-sync.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { DirectoryChange } from '../../directory/directory-events.js';
import type { Principal } from '../../directory/principal.js';
import type { ProvisioningAudit, ProvisioningDirectory } from '../provisioning-ports.js';
import { ProvisioningError } from '../provisioning-error.js';
import { isUniqueViolation, parseProvisioningInput } from '../provisioning-input.js';
import type { DeskKey, DeskVendor } from '../provisioning-tables.js';
import type { CheckSyncNotifier, CheckSyncResult } from './check-sync-notifier.js';
import type { DeskTransport } from './desk-config.js';
import type { DeskPhoneCatalog } from './desk-phone-catalog.js';
import type { DeskLineRecord, DeskPhone, DeskPhoneQuery, DeskPhoneRepository } from './desk-phone-repository.js';
import { deskProfileSchemas, type DeskSettings } from './desk-settings.js';
import { DESK_VENDORS } from './desk-vendors.js';
import { normalizeMac } from './mac-address.js';

const KEY_TYPES = ['blf', 'speed_dial', 'line', 'park', 'voicemail'] as const;
/** Lines a phone can carry here. */
export const MAX_DESK_LINES = 16;
const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    // eslint-disable-next-line no-control-regex
    .regex(/^[^\x00-\x1f\x7f]*$/, 'must not contain control characters');

/** One line assignment: the phone's line number and an extension of the phone's domain. */
export const deskLineInput = z.strictObject({
  line: z.number().int().min(1).max(MAX_DESK_LINES),
  ext: text(64).min(1),
  transport: z.enum(['udp', 'tcp', 'tls']).optional(),
});
/** One programmable key. */
export const deskKeyInput = z.strictObject({
  index: z.number().int().min(1).max(200),
  type: z.enum(KEY_TYPES),
  value: text(128).default(''),
  label: text(64).optional(),
  line: z.number().int().min(1).max(MAX_DESK_LINES).optional(),
});
/** A device's overrides of the domain profile. */
export const deskOverridesInput = z.strictObject({
  timezone: deskProfileSchemas.timezone.optional(),
  ntpServer: deskProfileSchemas.ntpServer.optional(),
  language: deskProfileSchemas.language.optional(),
  codecs: deskProfileSchemas.codecs.optional(),
  dialPlan: deskProfileSchemas.dialPlan.optional(),
  ringtone: deskProfileSchemas.ringtone.optional(),
});
/** What creates a desk phone (the API body, the CLI, an adapter). */
export const deskPhoneInput = z.strictObject({
  mac: z.string().max(32),
  vendor: z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v), z.enum(DESK_VENDORS)),
  model: text(64).optional(),
  label: text(128).optional(),
  /** The domain's name (default: the viewer's domain). */
  domain: text(253).optional(),
  lines: z.array(deskLineInput).max(MAX_DESK_LINES).default([]),
  keys: z.array(deskKeyInput).max(200).default([]),
  overrides: deskOverridesInput.default({}),
});
/** Input of {@link DeskPhoneService.create}. */
export type DeskPhoneInput = z.input<typeof deskPhoneInput>;
/** A change of a desk phone's own fields. */
export const deskPhonePatch = z.strictObject({
  model: text(64).nullable().optional(),
  label: text(128).nullable().optional(),
  enabled: z.boolean().optional(),
  /** Assigning a pending phone makes it active. */
  status: z.enum(['active', 'pending']).optional(),
  keys: z.array(deskKeyInput).max(200).optional(),
  overrides: deskOverridesInput.optional(),
});

/** Dependencies of {@link DeskPhoneService}. */
export interface DeskPhoneServiceOptions {
  repository: DeskPhoneRepository;
  catalog: DeskPhoneCatalog;
  directory: ProvisioningDirectory;
  settings: DeskSettings;
  notifier: CheckSyncNotifier;
  audit: ProvisioningAudit;
  logger: Logger;
}

/** Desk-phone management. */
export class DeskPhoneService {
  constructor(private readonly o: DeskPhoneServiceOptions) {}

  /**
   * Creates a desk phone by MAC: the one path every caller (API, CLI, adapters) goes through. The
   * MAC is accepted in any notation and kept canonical; lines name extensions of the phone's domain.
   */
  async create(p: Principal, input: unknown): Promise<DeskPhone> {
    const i = parse(deskPhoneInput, input);
    const mac = normalizeMac(i.mac);
    if (!mac) throw new ProvisioningError('INVALID_INPUT', 'mac: not a MAC address (12 hex digits, any notation)');
    const domainName = i.domain ?? p.domain;
    if (domainName === undefined) throw new ProvisioningError('INVALID_INPUT', 'domain: required for a superadmin');
    const domain = await this.o.directory.findDomain(domainName);
    if (!domain || !manages(p, domain.id))
      throw new ProvisioningError('NOT_FOUND', `no domain ${domainName.slice(0, 253)}`);
    if (this.o.catalog.byMac(mac) || (await this.o.repository.find({ mac })))
      throw new ProvisioningError('CONFLICT', `a device with MAC ${mac} exists already`);
    const lines = await this.#resolveLines(domain.domain, i.lines);
    let id: string;
    try {
      id = await this.o.repository.insert({
        domainId: domain.id,
        mac,
        vendor: i.vendor,
        model: i.model,
        label: i.label,
        secret: randomBytes(18).toString('base64url'),
        status: 'active',
        keys: keysOf(i.keys),
        overrides: i.overrides,
        lines,
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new ProvisioningError('CONFLICT', `a device with MAC ${mac} exists already`);
      throw err;
    }
    const phone = await this.#reload(id);
    await this.#audit(p, phone, 'create', { mac, vendor: i.vendor, lines: lines.map((l) => `${l.no}:${l.ext}`) });
    return phone;
  }

  /**
   * Records a phone Handset does not know as pending in `domainId` (auto-insert, off by default):
   * it gets nothing until an admin assigns lines. Returns undefined when it exists meanwhile.
   */
  async insertPending(domainId: string, mac: string, vendor: DeskVendor, model: string | undefined): Promise<void> {
    try {
      const id = await this.o.repository.insert({
        domainId,
        mac,
        vendor,
        model,
        label: undefined,
        secret: randomBytes(18).toString('base64url'),
        status: 'pending',
        keys: [],
        overrides: {},
        lines: [],
      });
      await this.#reload(id);
      this.o.logger.info({ mac, vendor, domainId }, 'unknown desk phone recorded as pending');
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
  }

  /** A phone the viewer manages, by id or MAC (any notation). */
  get(p: Principal, idOrMac: string): DeskPhone {
    const mac = normalizeMac(idOrMac);
    const phone = mac ? this.o.catalog.byMac(mac) : this.o.catalog.byId(idOrMac);
    if (!phone || !manages(p, phone.domainId)) throw new ProvisioningError('NOT_FOUND', 'no such device');
    return phone;
  }

  /** A page of the phones the viewer manages. */
  async search(
    p: Principal,
    q: Omit<DeskPhoneQuery, 'domainId'> & { domainId?: string | undefined },
  ): Promise<{ devices: DeskPhone[]; total: number }> {
    let domainId = q.domainId;
    if (p.role !== 'superadmin') {
      if (domainId !== undefined && domainId !== p.domainId) return { devices: [], total: 0 };
      if (!p.domainId || !manages(p, p.domainId))
        throw new ProvisioningError('FORBIDDEN', 'only an admin of the domain lists devices');
      domainId = p.domainId;
    }
    const mac = q.mac === undefined ? undefined : (normalizeMac(q.mac) ?? q.mac.toLowerCase().replace(/[:.-]/g, ''));
    const { ids, total } = await this.o.repository.search({ ...q, mac, domainId });
    const devices = ids.map((id) => this.o.catalog.byId(id)).filter((d): d is DeskPhone => d !== undefined);
    return { devices, total };
  }

  /** Changes a phone's own fields; keys and overrides change its file (check-sync). */
  async update(p: Principal, idOrMac: string, patch: unknown): Promise<DeskPhone> {
    const phone = this.get(p, idOrMac);
    const c = parse(deskPhonePatch, patch);
    const change: Parameters<DeskPhoneRepository['update']>[1] = {};
    if (c.model !== undefined) change.model = c.model;
    if (c.label !== undefined) change.label = c.label;
    if (c.enabled !== undefined) change.enabled = c.enabled;
    if (c.status !== undefined) change.status = c.status;
    if (c.keys !== undefined) change.keys = keysOf(c.keys);
    if (c.overrides !== undefined) change.overrides = c.overrides;
    if (Object.keys(change).length === 0) throw new ProvisioningError('INVALID_INPUT', 'nothing to change');
    await this.o.repository.update(phone.id, change);
    const next = await this.#reload(phone.id);
    await this.#audit(p, next, 'update', { changed: Object.keys(change) });
    if (c.keys !== undefined || c.overrides !== undefined || c.enabled !== undefined) void this.#sync(next);
    return next;
  }

  /** Replaces a phone's lines (an assigned pending phone becomes active); check-sync follows. */
  async setLines(p: Principal, idOrMac: string, input: unknown): Promise<DeskPhone> {
    const phone = this.get(p, idOrMac);
    const lines = await this.#resolveLines(phone.domain, parse(z.array(deskLineInput).max(MAX_DESK_LINES), input));
    await this.o.repository.replaceLines(phone.id, phone.domainId, lines);
    if (phone.status === 'pending' && lines.length > 0) await this.o.repository.update(phone.id, { status: 'active' });
    const next = await this.#reload(phone.id);
    await this.#audit(p, next, 'set_lines', { lines: lines.map((l) => `${l.no}:${l.ext}`) });
    // The phone is still registered with its old lines: reach it through those too.
    void this.#sync({ ...next, lines: [...phone.lines, ...next.lines] });
    return next;
  }

  /** Replaces a phone's programmable keys. */
  async setKeys(p: Principal, idOrMac: string, input: unknown): Promise<DeskPhone> {
    return this.update(p, idOrMac, { keys: input });
  }

  /** Deletes a phone: its next fetch is a 404. */
  async delete(p: Principal, idOrMac: string): Promise<void> {
    const phone = this.get(p, idOrMac);
    await this.o.repository.delete(phone.id);
    this.o.catalog.remove(phone.id);
    await this.#audit(p, phone, 'delete', { mac: phone.mac });
  }

  /** Sends check-sync (or a reboot) to the phone's registered contacts now. */
  async resync(p: Principal, idOrMac: string, opts: { reboot?: boolean } = {}): Promise<CheckSyncResult[]> {
    const phone = this.get(p, idOrMac);
    await this.#audit(p, phone, opts.reboot ? 'reboot' : 'resync', {});
    return this.o.notifier.notify(phone, opts);
  }

  /** The domain's desk-phone settings changed: files render again and its phones fetch them. */
  settingsChanged(domainId: string | undefined): void {
    this.o.settings.invalidate(domainId);
    // A server-wide default changed: every domain that does not override it.
    const domains = domainId === undefined ? this.o.catalog.domainIds() : [domainId];
    for (const d of domains) {
      this.o.catalog.domainChanged(d);
      for (const phone of this.o.catalog.inDomain(d)) void this.#sync(phone);
    }
  }

  /**
   * A directory change: a user's password or name feeds the files of the phones carrying it (they
   * get check-sync when it changed); any user change feeds the domain's phonebook.
   */
  async directoryChanged(change: Pick<DirectoryChange, 'type' | 'domainId' | 'domain' | 'id'>): Promise<void> {
    const { catalog } = this.o;
    if (change.type === 'domain.deleted') {
      for (const phone of catalog.inDomain(change.domainId)) catalog.remove(phone.id);
      return;
    }
    if (!change.type.startsWith('user.') && !change.type.startsWith('domain.')) return;
    const phones = change.type.startsWith('user.') ? catalog.withUser(change.id) : [];
    const before = await Promise.all(phones.map((ph) => this.#lineCredentials(ph, change.id)));
    catalog.domainChanged(change.domainId, change.domain);
    if (change.type === 'user.deleted') {
      // Lines of a deleted user went with it (foreign key): read the phones again.
      for (const ph of phones) await this.#reload(ph.id).catch(() => catalog.remove(ph.id));
    }
    const after = await Promise.all(phones.map((ph) => this.#lineCredentials(ph, change.id)));
    phones.forEach((ph, i) => {
      if (before[i] !== after[i]) void this.#sync(catalog.byId(ph.id) ?? ph);
    });
  }

  /**
   * A change the directory reports by domain name only (or none): credentials and phonebooks of
   * that domain (or all) are read again. No check-sync: what changed is not known.
   */
  domainRenamedOrReloaded(domain?: string): void {
    const ids = new Set<string>();
    for (const id of this.o.catalog.domainIds()) {
      const phone = this.o.catalog.inDomain(id)[0];
      if (domain === undefined || phone?.domain === domain) ids.add(id);
    }
    for (const id of ids) this.o.catalog.domainChanged(id, domain);
  }

  async #lineCredentials(phone: DeskPhone, userId: string): Promise<string> {
    const parts: string[] = [];
    for (const l of phone.lines.filter((x) => x.userId === userId)) {
      const c = await this.o.catalog.credentials(phone.domain, l.ext).catch(() => undefined);
      parts.push(c ? `${c.password}\n${c.displayName ?? ''}` : '-');
    }
    return parts.join('\n\n');
  }

  async #sync(phone: DeskPhone): Promise<void> {
    try {
      await this.o.notifier.notify(phone);
    } catch (err) {
      this.o.logger.warn({ err, mac: phone.mac }, 'check-sync failed');
    }
  }

  async #resolveLines(
    domain: string,
    lines: Array<{ line: number; ext: string; transport?: DeskTransport | undefined }>,
  ): Promise<Array<Omit<DeskLineRecord, 'enabled'>>> {
    const seen = new Set<number>();
    const out: Array<Omit<DeskLineRecord, 'enabled'>> = [];
    for (const l of lines) {
      if (seen.has(l.line)) throw new ProvisioningError('INVALID_INPUT', `line ${l.line} is assigned twice`);
      seen.add(l.line);
      // `1001@other.example` names another domain: refused like an unknown extension.
      const [ext, at] = l.ext.split('@');
      if (at !== undefined && at.toLowerCase() !== domain)
        throw new ProvisioningError('NOT_FOUND', `no extension ${l.ext} in ${domain}`);
      const found = await this.o.directory.findExtension(domain, ext!);
      if (!found) throw new ProvisioningError('NOT_FOUND', `no extension ${ext!} in ${domain}`);
      if (out.some((x) => x.userId === found.userId))
        throw new ProvisioningError('INVALID_INPUT', `extension ${found.ext} is on two lines`);
      out.push({ no: l.line, userId: found.userId, ext: found.ext, transport: l.transport ?? 'udp' });
    }
    return out.sort((a, b) => a.no - b.no);
  }

  async #reload(id: string): Promise<DeskPhone> {
    const phone = await this.o.repository.find({ id });
    if (!phone) throw new ProvisioningError('NOT_FOUND', 'no such device');
    const held = this.o.catalog.byId(id);
    // The last contact lives in memory ahead of the database.
    if (held?.lastContactAt && (!phone.lastContactAt || held.lastContactAt > phone.lastContactAt)) {
      phone.lastContactAt = held.lastContactAt;
      phone.lastContactIp = held.lastContactIp;
      phone.firmware = held.firmware ?? phone.firmware;
      phone.userAgent = held.userAgent ?? phone.userAgent;
    }
    this.o.catalog.put(phone);
    // Read the lines' credentials now, off the phone's first fetch.
    for (const l of phone.lines) void this.o.catalog.credentials(phone.domain, l.ext).catch(() => undefined);
    return phone;
  }

  async #audit(p: Principal, phone: DeskPhone, action: string, detail: Record<string, unknown>): Promise<void> {
    try {
      await this.o.audit.record(p, {
        action,
        resource: 'device',
        resourceId: phone.id,
        domainId: phone.domainId,
        detail,
      });
    } catch (err) {
      this.o.logger.error({ err, action }, 'audit record failed');
    }
  }
}

/** Admins and owners of the domain, and superadmins, manage its phones. */
function manages(p: Principal, domainId: string): boolean {
  return p.role === 'superadmin' || ((p.role === 'owner' || p.role === 'admin') && p.domainId === domainId);
}

function keysOf(keys: Array<z.output<typeof deskKeyInput>>): DeskKey[] {
  const seen = new Set<number>();
  for (const k of keys) {
    if (seen.has(k.index)) throw new ProvisioningError('INVALID_INPUT', `key ${k.index} is given twice`);
    seen.add(k.index);
    if (k.type !== 'line' && k.value === '' && k.type !== 'voicemail')
      throw new ProvisioningError('INVALID_INPUT', `key ${k.index}: a ${k.type} key needs a value`);
  }
  return keys.map((k) => ({ index: k.index, type: k.type, value: k.value, label: k.label, line: k.line }));
}

const parse = parseProvisioningInput;

/** A desk phone as JSON (the API, the CLI). The secret is shown: admins put it in the phone's URL. */
export function deskPhoneView(d: DeskPhone) {
  return {
    id: d.id,
    domainId: d.domainId,
    domain: d.domain,
    mac: d.mac,
    vendor: d.vendor,
    model: d.model ?? null,
    firmware: d.firmware ?? null,
    label: d.label ?? null,
    status: d.status,
    enabled: d.enabled,
    secret: d.secret,
    lines: d.lines.map((l) => ({ line: l.no, ext: l.ext, userId: l.userId, transport: l.transport })),
    keys: d.keys,
    overrides: d.overrides,
    ip: d.lastContactIp ?? null,
    lastContactAt: d.lastContactAt?.toISOString() ?? null,
    userAgent: d.userAgent ?? null,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}
