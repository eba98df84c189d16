/**
 * Device adapters: provisioning providers that configure phones Handset does not provision
 * itself. This service owns the adapters and their phones, the per-adapter ProvisioningPhone
 * queue (one job in flight per adapter; queued jobs live in the database, so they survive an
 * adapter's reconnect and a server restart), the single-use codes and the device passwords of
 * the configuration sessions, and the configurations they receive.
 *
 * Phone job states:
 *   queued --dispatch--> sent --ProvisioningPhoneResult--> ok | error
 *   sent --adapter gone--> (stays sent, sent again first when the adapter is back)
 *   ok | error --provisioned again--> queued
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, asc, count, desc, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import {
  encryptSecret,
  identifyAuth,
  normalizeMac,
  sameHex,
  type ProvisioningPhoneFrame,
  type ProviderServerFrame,
} from '@handset/device-adapter';
import type { SecretBox } from '../config/secret-box.js';
import type { AuditLog } from '../directory/audit-log.js';
import { DirectoryError } from '../directory/directory-error.js';
import { directoryRights as rights } from '../directory/directory-rights.js';
import { CLI_PRINCIPAL, type Principal } from '../directory/principal.js';
import { isUuid } from '../directory/user-service.js';
import type { Store } from '../store/store.js';
import { AdapterProtocolError } from './adapter-error.js';
import type { AdapterSettings } from './adapter-settings.js';
import { adapterPhones, deviceAdapters, type AdapterPhoneState, type StoredLine } from './adapter-tables.js';

/** What the adapters context needs of the directory. */
export interface AdapterDirectory {
  /** The domain name of an id, or undefined. */
  domainName(domainId: string): Promise<string | undefined>;
  /** An active user of an active domain by extension. */
  findUser(domain: string, ext: string): Promise<{ id: string; name: string | undefined } | undefined>;
  /** The SIP password and display name of an active user. */
  sipCredentials(
    domain: string,
    ext: string,
  ): Promise<{ password: string; displayName?: string | undefined } | undefined>;
}

/** The live provider session of a registered adapter (the gateway's WebSocket). */
export interface ProviderLink {
  /** The principal of the API token the adapter connected with. */
  readonly principal: Principal;
  /** The API token itself: the secret ProvisioningPhone passwords are encrypted with. Never stored. */
  readonly token: string;
  send(frame: ProviderServerFrame): void;
  /** Ends the session (another connection took the adapter over). */
  replaced(): void;
  /** Ends the session: the adapter was deleted. */
  removed(): void;
}

/** A line as an admin asks for it. */
export interface LineRequest {
  line: number;
  /** The extension. */
  user: string;
}

/** Input of {@link AdapterService.provisionPhone}. */
export interface ProvisionPhoneInput {
  domainId: string;
  mac: string;
  adapterId: string;
  lines: readonly LineRequest[];
}

/** An adapter as the API lists it. */
export interface AdapterView {
  id: string;
  title: string;
  /** Undefined: a superadmin's adapter, serving every domain. */
  domainId: string | undefined;
  online: boolean;
  lastSeenAt: Date | undefined;
  createdAt: Date;
  /** Phones waiting for this adapter (in flight included). */
  pending: number;
  /** The phone whose result the adapter owes now. */
  inFlight: string | undefined;
}

/** A phone provisioned through an adapter, as the API lists it (no secret). */
export interface AdapterPhoneView {
  id: string;
  domainId: string;
  mac: string;
  adapterId: string;
  lines: Array<{ line: number; user: string }>;
  state: AdapterPhoneState;
  queuedAt: Date;
  sentAt: Date | undefined;
  identifiedAt: Date | undefined;
  product: string | undefined;
  version: string | undefined;
  resultAt: Date | undefined;
  error: string | undefined;
  lastConfig: Record<string, unknown> | undefined;
  configSentAt: Date | undefined;
}

/** The outcome of a successful Identify. */
export interface Identified {
  phoneId: string;
  domainId: string;
  mac: string;
  /** The device password (held by the session to encrypt configuration secrets). */
  password: string;
  /** Present after a code: the password for SetManagerPassword, encrypted with the code. */
  managerPassword: { password: string; seed: string } | undefined;
}

/** One SIP line with its secret in clear (inside the server only). */
export interface PlainLine {
  line: number;
  user: string;
  authUser: string;
  domain: string;
  displayName: string;
  password: string;
}

/** The configuration of a phone with secrets in clear; the session encrypts them per frame. */
export interface PlainConfig {
  phone: { coder: string };
  media: { stunServer: string; turnServer: string; turnUser: string; turnPassword: string };
  tlsProfile: { profile: string };
  ntp: { tz: string; ntp1: string; ntp2: string };
  sip: { server: string; port: number; transport: 'udp' | 'tcp' | 'tls'; lines: PlainLine[] };
}

/** Where phones reach Handset, and their STUN/TURN. */
export interface AdapterServerInfo {
  /** Host name or address phones and adapters use (`dns`, SIP server). */
  host(): string;
  /** Bound SIP port per transport. */
  sipPort(transport: 'udp' | 'tcp' | 'tls'): number | undefined;
  /** STUN/TURN for a user (`ext@domain`), empty strings when none. */
  media(user: string): { stunServer: string; turnServer: string; turnUser: string; turnPassword: string };
}

/** A configuration session the service can ask to send the configuration again. */
export interface SysclientLink {
  readonly phoneId: string;
  /** Sends what changed (or, with `all`, everything), ending with `last: true`. */
  refresh(): void;
  replaced(): void;
  /** Ends the session: the phone was removed. */
  removed(): void;
}

/** Options of {@link AdapterService}. */
export interface AdapterServiceOptions {
  store: Store;
  /** Seals device passwords at rest. */
  secrets: SecretBox;
  directory: AdapterDirectory;
  settings: (domainId: string) => Promise<AdapterSettings>;
  audit: AuditLog;
  server: AdapterServerInfo;
  logger: Logger;
  /** A job without a result after this long fails and the queue moves on (default 10 min). */
  resultTimeoutMs?: number | undefined;
  /** Connected adapters re-check their queue this often (jobs added on another node; default 5 s). */
  pollIntervalMs?: number | undefined;
  /** Live configuration sessions re-check their configuration this often, for setting changes (default 5 min). */
  configRecheckMs?: number | undefined;
  clock?: (() => number) | undefined;
}

/** Most lines per phone. */
export const MAX_LINES = 16;
/** Most phones per request. */
export const MAX_PHONES_PER_REQUEST = 100;

type PhoneRow = typeof adapterPhones.$inferSelect;
type AdapterRow = typeof deviceAdapters.$inferSelect;

const hashCode = (code: string) => createHash('sha256').update(code, 'utf8').digest('hex');

/** The adapters context's service (see the file comment). */
export class AdapterService {
  readonly #providers = new Map<string, ProviderLink>();
  readonly #inFlight = new Map<string, { phoneId: string; timer: NodeJS.Timeout }>();
  readonly #chains = new Map<string, Promise<void>>();
  readonly #sysclients = new Map<string, SysclientLink>();
  readonly #clock: () => number;
  readonly #poll: NodeJS.Timeout;
  readonly #recheck: NodeJS.Timeout;
  #closed = false;

  constructor(private readonly o: AdapterServiceOptions) {
    this.#clock = o.clock ?? Date.now;
    this.#poll = setInterval(() => {
      for (const id of this.#providers.keys()) this.#dispatch(id);
    }, o.pollIntervalMs ?? 5000);
    this.#poll.unref();
    // Settings have no change events; a session sends only what differs, so this is cheap.
    this.#recheck = setInterval(() => this.refreshAll(), o.configRecheckMs ?? 300_000);
    this.#recheck.unref();
  }

  /** Stops timers and forgets live sessions (the gateways close the sockets). */
  close(): void {
    this.#closed = true;
    clearInterval(this.#poll);
    clearInterval(this.#recheck);
    for (const f of this.#inFlight.values()) clearTimeout(f.timer);
    this.#inFlight.clear();
    this.#providers.clear();
    this.#sysclients.clear();
  }

  // ---- provider sessions ----

  /**
   * Registers (or re-registers) the adapter `title` in the token's scope: its domain, or every
   * domain for a superadmin. A second live connection of the same adapter replaces the first.
   */
  async register(link: ProviderLink, title: string): Promise<string> {
    const p = link.principal;
    if (p.role !== 'superadmin') rights.requireManager(p, p.domainId ?? '');
    const domainId = p.role === 'superadmin' ? null : p.domainId!;
    const now = new Date(this.#clock());
    const db = this.o.store.db;
    const [existing] = await db
      .select()
      .from(deviceAdapters)
      .where(
        and(
          domainId === null ? isNull(deviceAdapters.domainId) : eq(deviceAdapters.domainId, domainId),
          eq(deviceAdapters.title, title),
        ),
      );
    let row: AdapterRow;
    if (existing) {
      [row] = (await db
        .update(deviceAdapters)
        .set({ tokenId: p.tokenId ?? null, lastSeenAt: now })
        .where(eq(deviceAdapters.id, existing.id))
        .returning()) as [AdapterRow];
    } else {
      [row] = (await db
        .insert(deviceAdapters)
        .values({ domainId, title, tokenId: p.tokenId ?? null, lastSeenAt: now })
        .onConflictDoNothing()
        .returning()) as [AdapterRow];
      if (!row) return this.register(link, title);
      await this.o.audit.record(p, {
        action: 'register',
        resource: 'adapter',
        resourceId: row.id,
        domainId: domainId ?? undefined,
        detail: { title },
      });
    }
    const previous = this.#providers.get(row.id);
    this.#providers.set(row.id, link);
    if (previous && previous !== link) previous.replaced();
    this.#clearInFlight(row.id);
    this.o.logger.info({ adapter: row.id, title, domainId }, 'device adapter online');
    return row.id;
  }

  /** Starts sending queued jobs to a just-registered adapter (after its Registered frame). */
  start(adapterId: string): void {
    this.#dispatch(adapterId);
  }

  /** The adapter's session ended; its job in flight stays `sent` and goes first on the next session. */
  async unregister(adapterId: string, link: ProviderLink): Promise<void> {
    if (this.#providers.get(adapterId) !== link) return;
    this.#providers.delete(adapterId);
    this.#clearInFlight(adapterId);
    await this.o.store.db
      .update(deviceAdapters)
      .set({ lastSeenAt: new Date(this.#clock()) })
      .where(eq(deviceAdapters.id, adapterId));
    this.o.logger.info({ adapter: adapterId }, 'device adapter offline');
  }

  /** A ProvisioningPhoneResult: records it and sends the next job. Throws UNKNOWN_JOB for another id. */
  async result(adapterId: string, id: string, result: 'ok' | 'error', error: string | undefined): Promise<void> {
    const link = this.#providers.get(adapterId);
    const flying = this.#inFlight.get(adapterId);
    if (!link || !flying || flying.phoneId !== id)
      throw new AdapterProtocolError('UNKNOWN_JOB', 'no ProvisioningPhone with this id is waiting for a result');
    this.#clearInFlight(adapterId);
    const [row] = await this.o.store.db
      .update(adapterPhones)
      .set({
        state: result,
        resultAt: new Date(this.#clock()),
        lastError: result === 'error' ? (error ?? 'the adapter reported an error').slice(0, 500) : null,
        updatedAt: new Date(this.#clock()),
      })
      .where(and(eq(adapterPhones.id, id), eq(adapterPhones.state, 'sent')))
      .returning();
    if (row)
      await this.o.audit.record(link.principal, {
        action: 'provisioning-result',
        resource: 'adapter-phone',
        resourceId: id,
        domainId: row.domainId,
        detail: { mac: row.mac, adapter: adapterId, result, ...(result === 'error' ? { error: row.lastError } : {}) },
      });
    this.#dispatch(adapterId);
  }

  /** Serialises queue work per adapter, so two triggers never send two jobs. */
  #dispatch(adapterId: string): void {
    if (this.#closed) return;
    const prev = this.#chains.get(adapterId) ?? Promise.resolve();
    const next = prev
      .then(() => this.#sendNext(adapterId))
      .catch((err: unknown) => this.o.logger.error({ err, adapter: adapterId }, 'adapter queue dispatch failed'));
    this.#chains.set(adapterId, next);
    void next.then(() => {
      if (this.#chains.get(adapterId) === next) this.#chains.delete(adapterId);
    });
  }

  async #sendNext(adapterId: string): Promise<void> {
    const link = this.#providers.get(adapterId);
    if (!link || this.#inFlight.has(adapterId) || this.#closed) return;
    const db = this.o.store.db;
    const [row] = await db
      .select()
      .from(adapterPhones)
      .where(and(eq(adapterPhones.adapterId, adapterId), inArray(adapterPhones.state, ['queued', 'sent'])))
      .orderBy(sql`case when ${adapterPhones.state} = 'sent' then 0 else 1 end`, asc(adapterPhones.queuedAt))
      .limit(1);
    if (!row) return;
    const domain = await this.o.directory.domainName(row.domainId);
    const first = [...row.lines].sort((a, b) => a.line - b.line)[0];
    const creds = domain && first ? await this.o.directory.sipCredentials(domain, first.ext) : undefined;
    const now = this.#clock();
    if (!domain || !first || !creds) {
      await db
        .update(adapterPhones)
        .set({ state: 'error', lastError: 'the line user no longer exists', resultAt: new Date(now) })
        .where(eq(adapterPhones.id, row.id));
      this.#dispatch(adapterId);
      return;
    }
    const settings = await this.o.settings(row.domainId);
    const code = randomBytes(16).toString('hex');
    await db
      .update(adapterPhones)
      .set({
        state: 'sent',
        sentAt: new Date(now),
        codeHash: hashCode(code),
        codeExpiresAt: new Date(now + settings.codeTtlS * 1000),
        updatedAt: new Date(now),
      })
      .where(eq(adapterPhones.id, row.id));
    // The adapter may have gone while the row was written: the job stays `sent` for its return.
    if (this.#providers.get(adapterId) !== link) return;
    const sealed = encryptSecret(link.token, creds.password);
    const frame: ProvisioningPhoneFrame = {
      mt: 'ProvisioningPhone',
      id: row.id,
      mac: row.mac,
      code,
      hwid: `handset-${row.mac}`,
      username: first.ext,
      cn: creds.displayName ?? first.ext,
      domain,
      dns: this.o.server.host(),
      seed: sealed.seed,
      password: sealed.value,
    };
    const timer = setTimeout(() => void this.#timedOut(adapterId, row.id), this.o.resultTimeoutMs ?? 600_000);
    timer.unref();
    this.#inFlight.set(adapterId, { phoneId: row.id, timer });
    link.send(frame);
  }

  async #timedOut(adapterId: string, phoneId: string): Promise<void> {
    const flying = this.#inFlight.get(adapterId);
    if (flying?.phoneId !== phoneId) return;
    this.#inFlight.delete(adapterId);
    this.o.logger.warn(
      { adapter: adapterId, phone: phoneId },
      'device adapter sent no ProvisioningPhoneResult in time',
    );
    await this.o.store.db
      .update(adapterPhones)
      .set({ state: 'error', lastError: 'no result from the adapter in time', resultAt: new Date(this.#clock()) })
      .where(and(eq(adapterPhones.id, phoneId), eq(adapterPhones.state, 'sent')));
    this.#dispatch(adapterId);
  }

  #clearInFlight(adapterId: string): void {
    const f = this.#inFlight.get(adapterId);
    if (f) clearTimeout(f.timer);
    this.#inFlight.delete(adapterId);
  }

  // ---- provisioning ----

  /**
   * Queues a phone for the adapter (or queues it again with new lines): the adapter receives
   * ProvisioningPhone when the jobs before it have their result. Checked here: the adapter
   * serves the domain, the MAC is not another domain's, every line names a user of the domain.
   */
  async provisionPhone(input: ProvisionPhoneInput, actor: Principal = CLI_PRINCIPAL): Promise<AdapterPhoneView> {
    const [view] = await this.#provision(actor, input.adapterId, input.domainId, [input]);
    return view!;
  }

  /** The API's form: several phones for one adapter, in order, all checked before any is queued. */
  async provisionPhones(
    p: Principal,
    adapterId: string,
    domainId: string | undefined,
    phones: ReadonlyArray<{ mac: string; lines: readonly LineRequest[] }>,
  ): Promise<AdapterPhoneView[]> {
    const scope = domainId ?? p.domainId;
    if (scope === undefined) throw DirectoryError.validation({ domainId: 'a superadmin must name the domain' });
    rights.requireManager(p, scope);
    return this.#provision(p, adapterId, scope, phones);
  }

  async #provision(
    actor: Principal,
    adapterId: string,
    domainId: string,
    phones: ReadonlyArray<{ mac: string; lines: readonly LineRequest[] }>,
  ): Promise<AdapterPhoneView[]> {
    if (phones.length === 0 || phones.length > MAX_PHONES_PER_REQUEST)
      throw DirectoryError.validation({ phones: `give 1 to ${MAX_PHONES_PER_REQUEST} phones` });
    const adapter = await this.#visibleAdapter(actor, adapterId);
    if (adapter.domainId !== null && adapter.domainId !== domainId) throw DirectoryError.notFound('adapter');
    const domain = await this.o.directory.domainName(domainId);
    if (!domain) throw DirectoryError.notFound('domain');
    const db = this.o.store.db;
    const seen = new Set<string>();
    const checked: Array<{ mac: string; lines: StoredLine[] }> = [];
    for (const [i, phone] of phones.entries()) {
      const mac = normalizeMac(phone.mac);
      if (!mac) throw DirectoryError.validation({ [`phones.${i}.mac`]: 'must be a MAC: 12 hex digits' });
      if (seen.has(mac)) throw DirectoryError.validation({ [`phones.${i}.mac`]: 'is given twice' });
      seen.add(mac);
      if (phone.lines.length === 0 || phone.lines.length > MAX_LINES)
        throw DirectoryError.validation({ [`phones.${i}.lines`]: `give 1 to ${MAX_LINES} lines` });
      const lines: StoredLine[] = [];
      const numbers = new Set<number>();
      for (const [j, l] of phone.lines.entries()) {
        if (!Number.isInteger(l.line) || l.line < 1 || l.line > MAX_LINES || numbers.has(l.line))
          throw DirectoryError.validation({
            [`phones.${i}.lines.${j}.line`]: `must be a distinct number 1-${MAX_LINES}`,
          });
        numbers.add(l.line);
        const user = await this.o.directory.findUser(domain, l.user);
        if (!user)
          throw DirectoryError.validation({ [`phones.${i}.lines.${j}.user`]: 'no active user with this extension' });
        lines.push({ line: l.line, userId: user.id, ext: l.user });
      }
      const [owner] = await db
        .select({ domainId: adapterPhones.domainId })
        .from(adapterPhones)
        .where(eq(adapterPhones.mac, mac));
      // The answer does not say which domain has it.
      if (owner && owner.domainId !== domainId)
        throw new DirectoryError('CONFLICT', `the MAC ${mac} is provisioned in another domain`);
      checked.push({ mac, lines });
    }
    const views: AdapterPhoneView[] = [];
    for (const phone of checked) {
      // Queue order is request order, even within one millisecond.
      const now = new Date(this.#clock() + views.length);
      const [row] = await db
        .insert(adapterPhones)
        .values({ domainId, mac: phone.mac, adapterId, lines: phone.lines, state: 'queued', queuedAt: now })
        .onConflictDoUpdate({
          target: adapterPhones.mac,
          set: {
            adapterId,
            lines: phone.lines,
            state: 'queued',
            queuedAt: now,
            codeHash: null,
            codeExpiresAt: null,
            lastError: null,
            updatedAt: now,
          },
          setWhere: eq(adapterPhones.domainId, domainId),
        })
        .returning();
      if (!row) throw new DirectoryError('CONFLICT', `the MAC ${phone.mac} is provisioned in another domain`);
      await this.o.audit.record(actor, {
        action: 'provision',
        resource: 'adapter-phone',
        resourceId: row.id,
        domainId,
        detail: { mac: phone.mac, adapter: adapterId, lines: phone.lines.map((l) => `${l.line}:${l.ext}`) },
      });
      views.push(toPhoneView(row));
      // A phone already configured hears about its new lines at once.
      this.#sysclients.get(row.id)?.refresh();
    }
    this.#dispatch(adapterId);
    return views;
  }

  /** Adapters the principal may see: of its domain plus the server-wide ones (superadmin: all). */
  async list(p: Principal): Promise<AdapterView[]> {
    if (!rights.isManager(p)) throw DirectoryError.forbidden();
    const db = this.o.store.db;
    const rows = await db
      .select()
      .from(deviceAdapters)
      .where(
        p.role === 'superadmin'
          ? undefined
          : or(isNull(deviceAdapters.domainId), eq(deviceAdapters.domainId, p.domainId ?? '')),
      )
      .orderBy(asc(deviceAdapters.title), asc(deviceAdapters.id));
    const counts = await db
      .select({ adapterId: adapterPhones.adapterId, n: count() })
      .from(adapterPhones)
      .where(
        and(
          inArray(adapterPhones.state, ['queued', 'sent']),
          p.role === 'superadmin' ? undefined : eq(adapterPhones.domainId, p.domainId ?? ''),
        ),
      )
      .groupBy(adapterPhones.adapterId);
    const pending = new Map(counts.map((c) => [c.adapterId, Number(c.n)]));
    return rows.map((r) => this.#adapterView(r, pending.get(r.id) ?? 0));
  }

  /** One adapter with its state. */
  async get(p: Principal, adapterId: string): Promise<AdapterView> {
    if (!rights.isManager(p)) throw DirectoryError.forbidden();
    const row = await this.#visibleAdapter(p, adapterId);
    const [c] = await this.o.store.db
      .select({ n: count() })
      .from(adapterPhones)
      .where(and(eq(adapterPhones.adapterId, adapterId), inArray(adapterPhones.state, ['queued', 'sent'])));
    return this.#adapterView(row, Number(c?.n ?? 0));
  }

  /** The phones of an adapter the principal may see (its domain's; superadmin: all), newest first. */
  async listPhones(p: Principal, adapterId: string): Promise<AdapterPhoneView[]> {
    if (!rights.isManager(p)) throw DirectoryError.forbidden();
    await this.#visibleAdapter(p, adapterId);
    const rows = await this.o.store.db
      .select()
      .from(adapterPhones)
      .where(
        and(
          eq(adapterPhones.adapterId, adapterId),
          p.role === 'superadmin' ? undefined : eq(adapterPhones.domainId, p.domainId ?? ''),
        ),
      )
      .orderBy(desc(adapterPhones.queuedAt))
      .limit(1000);
    return rows.map(toPhoneView);
  }

  /** The phone with this MAC in a domain, or undefined (for the devices API to show which adapter has it). */
  async findPhone(domainId: string, mac: string): Promise<AdapterPhoneView | undefined> {
    const m = normalizeMac(mac);
    if (!m || !isUuid(domainId)) return undefined;
    const [row] = await this.o.store.db
      .select()
      .from(adapterPhones)
      .where(and(eq(adapterPhones.mac, m), eq(adapterPhones.domainId, domainId)));
    return row ? toPhoneView(row) : undefined;
  }

  /**
   * Forgets a phone: its job leaves the queue, its device password stops working and its live
   * configuration session is closed. Managers of the phone's domain.
   */
  async removePhone(p: Principal, adapterId: string, mac: string): Promise<void> {
    await this.#visibleAdapter(p, adapterId);
    const m = normalizeMac(mac);
    if (!m) throw DirectoryError.notFound('phone');
    const [row] = await this.o.store.db
      .select()
      .from(adapterPhones)
      .where(and(eq(adapterPhones.mac, m), eq(adapterPhones.adapterId, adapterId)));
    if (!row || !rights.inDomain(p, row.domainId)) throw DirectoryError.notFound('phone');
    rights.requireManager(p, row.domainId);
    await this.o.store.db.delete(adapterPhones).where(eq(adapterPhones.id, row.id));
    if (this.#inFlight.get(adapterId)?.phoneId === row.id) {
      this.#clearInFlight(adapterId);
      this.#dispatch(adapterId);
    }
    this.#sysclients.get(row.id)?.removed();
    this.#sysclients.delete(row.id);
    await this.o.audit.record(p, {
      action: 'delete',
      resource: 'adapter-phone',
      resourceId: row.id,
      domainId: row.domainId,
      detail: { mac: m, adapter: adapterId },
    });
  }

  /**
   * Deletes an adapter with its phones (owner of its domain; a server-wide one: superadmin). A
   * live session is closed; the adapter registering again starts with an empty queue.
   */
  async remove(p: Principal, adapterId: string): Promise<void> {
    const row = await this.#visibleAdapter(p, adapterId);
    if (row.domainId === null) rights.requireSuperadmin(p);
    else rights.requireOwner(p, row.domainId);
    const phones = await this.o.store.db
      .delete(adapterPhones)
      .where(eq(adapterPhones.adapterId, adapterId))
      .returning({ id: adapterPhones.id });
    await this.o.store.db.delete(deviceAdapters).where(eq(deviceAdapters.id, adapterId));
    for (const ph of phones) {
      this.#sysclients.get(ph.id)?.removed();
      this.#sysclients.delete(ph.id);
    }
    this.#clearInFlight(adapterId);
    const link = this.#providers.get(adapterId);
    this.#providers.delete(adapterId);
    link?.removed();
    await this.o.audit.record(p, {
      action: 'delete',
      resource: 'adapter',
      resourceId: adapterId,
      domainId: row.domainId ?? undefined,
      detail: { title: row.title, phones: phones.length },
    });
  }

  async #visibleAdapter(p: Principal, adapterId: string): Promise<AdapterRow> {
    if (!isUuid(adapterId)) throw DirectoryError.notFound('adapter');
    const [row] = await this.o.store.db.select().from(deviceAdapters).where(eq(deviceAdapters.id, adapterId));
    if (!row || (row.domainId !== null && !rights.inDomain(p, row.domainId))) throw DirectoryError.notFound('adapter');
    return row;
  }

  #adapterView(r: AdapterRow, pending: number): AdapterView {
    return {
      id: r.id,
      title: r.title,
      domainId: r.domainId ?? undefined,
      online: this.#providers.has(r.id),
      lastSeenAt: r.lastSeenAt ?? undefined,
      createdAt: r.createdAt,
      pending,
      inFlight: this.#inFlight.get(r.id)?.phoneId,
    };
  }

  // ---- configuration sessions ----

  /**
   * Checks an Identify: a code (single use, unexpired) or `auth` = HMAC(device password, nonce).
   * With a token (`scope`), the phone must be in its domain. Every failure is an
   * AdapterProtocolError whose message names no other tenant's data.
   */
  async identify(i: {
    mac: string;
    nonce: string;
    code?: string | undefined;
    auth?: string | undefined;
    product: string;
    version: string;
    scope?: Principal | undefined;
  }): Promise<Identified> {
    const mac = normalizeMac(i.mac);
    if (!mac) throw new AdapterProtocolError('BAD_FRAME', 'mac must be 12 hex digits');
    const db = this.o.store.db;
    const [row] = await db.select().from(adapterPhones).where(eq(adapterPhones.mac, mac));
    if (row && i.scope && !rights.inDomain(i.scope, row.domainId))
      throw new AdapterProtocolError('FORBIDDEN', 'this MAC is not provisioned in the domain of your token');
    const now = this.#clock();
    if (i.code !== undefined) {
      const fail = () => new AdapterProtocolError('IDENTIFY_FAILED', 'the code is unknown or was already used');
      if (!row || row.codeHash === null || !sameHex(row.codeHash, hashCode(i.code))) throw fail();
      if (!row.codeExpiresAt || row.codeExpiresAt.getTime() <= now)
        throw new AdapterProtocolError('CODE_EXPIRED', 'the code has expired; provision the phone again');
      const password = randomBytes(24).toString('base64url');
      // Consumed atomically: of two Identify frames with the same code, one wins.
      const [used] = await db
        .update(adapterPhones)
        .set({
          codeHash: null,
          codeExpiresAt: null,
          passwordEnc: this.o.secrets.seal(password),
          identifiedAt: new Date(now),
          product: i.product.slice(0, 100),
          version: i.version.slice(0, 100),
          updatedAt: new Date(now),
        })
        .where(and(eq(adapterPhones.id, row.id), eq(adapterPhones.codeHash, row.codeHash)))
        .returning();
      if (!used) throw fail();
      await this.o.audit.record(i.scope ?? CLI_PRINCIPAL, {
        action: 'identify',
        resource: 'adapter-phone',
        resourceId: row.id,
        domainId: row.domainId,
        detail: { mac, product: used.product, version: used.version, with: 'code' },
      });
      const sealed = encryptSecret(i.code, password);
      return {
        phoneId: row.id,
        domainId: row.domainId,
        mac,
        password,
        managerPassword: { password: sealed.value, seed: sealed.seed },
      };
    }
    const fail = () => new AdapterProtocolError('IDENTIFY_FAILED', 'unknown MAC or wrong auth');
    if (i.auth === undefined || !row || row.passwordEnc === null) throw fail();
    let password: string;
    try {
      password = this.o.secrets.open(row.passwordEnc);
    } catch (err) {
      this.o.logger.error({ err, phone: row.id }, 'a device password cannot be opened (server key changed?)');
      throw fail();
    }
    if (!sameHex(identifyAuth(password, i.nonce), i.auth.toLowerCase())) throw fail();
    await db
      .update(adapterPhones)
      .set({ product: i.product.slice(0, 100), version: i.version.slice(0, 100), updatedAt: new Date(now) })
      .where(eq(adapterPhones.id, row.id));
    return { phoneId: row.id, domainId: row.domainId, mac, password, managerPassword: undefined };
  }

  /** The phone's configuration now (secrets in clear, for the session to encrypt). */
  async configOf(phoneId: string): Promise<PlainConfig | undefined> {
    const [row] = await this.o.store.db.select().from(adapterPhones).where(eq(adapterPhones.id, phoneId));
    if (!row) return undefined;
    const domain = await this.o.directory.domainName(row.domainId);
    if (!domain) return undefined;
    const s = await this.o.settings(row.domainId);
    const lines: PlainLine[] = [];
    for (const l of [...row.lines].sort((a, b) => a.line - b.line)) {
      const creds = await this.o.directory.sipCredentials(domain, l.ext);
      if (!creds) continue;
      lines.push({
        line: l.line,
        user: l.ext,
        authUser: l.ext,
        domain,
        displayName: creds.displayName ?? l.ext,
        password: creds.password,
      });
    }
    const first = lines[0];
    return {
      phone: { coder: s.coder },
      media: this.o.server.media(first ? `${first.user}@${domain}` : `${row.mac}@${domain}`),
      tlsProfile: { profile: s.tlsProfile },
      ntp: { tz: s.tz, ntp1: s.ntp1, ntp2: s.ntp2 },
      sip: {
        server: this.o.server.host(),
        port: this.o.server.sipPort(s.sipTransport) ?? 5060,
        transport: s.sipTransport,
        lines,
      },
    };
  }

  /** Records what was sent (without secrets). */
  async configSent(phoneId: string, summary: Record<string, unknown>): Promise<void> {
    await this.o.store.db
      .update(adapterPhones)
      .set({ lastConfig: summary, configSentAt: new Date(this.#clock()) })
      .where(eq(adapterPhones.id, phoneId));
  }

  /** A configuration session for the phone is live; an older one for the same phone is replaced. */
  attachSysclient(link: SysclientLink): void {
    const previous = this.#sysclients.get(link.phoneId);
    this.#sysclients.set(link.phoneId, link);
    if (previous && previous !== link) previous.replaced();
  }

  /** The session ended. */
  detachSysclient(link: SysclientLink): void {
    if (this.#sysclients.get(link.phoneId) === link) this.#sysclients.delete(link.phoneId);
  }

  /** A user changed (SIP password, name, extension...): the phones carrying it get their configuration again. */
  async userChanged(userId: string): Promise<void> {
    if (this.#sysclients.size === 0 || !isUuid(userId)) return;
    const rows = await this.o.store.db
      .select({ id: adapterPhones.id })
      .from(adapterPhones)
      .where(sql`${adapterPhones.lines} @> ${JSON.stringify([{ userId }])}::jsonb`);
    for (const r of rows) this.#sysclients.get(r.id)?.refresh();
  }

  /** Settings changed for a domain (or all): every live session of it re-checks its configuration. */
  refreshAll(): void {
    for (const link of this.#sysclients.values()) link.refresh();
  }
}

function toPhoneView(r: PhoneRow): AdapterPhoneView {
  return {
    id: r.id,
    domainId: r.domainId,
    mac: r.mac,
    adapterId: r.adapterId,
    lines: r.lines.map((l) => ({ line: l.line, user: l.ext })),
    state: r.state,
    queuedAt: r.queuedAt,
    sentAt: r.sentAt ?? undefined,
    identifiedAt: r.identifiedAt ?? undefined,
    product: r.product ?? undefined,
    version: r.version ?? undefined,
    resultAt: r.resultAt ?? undefined,
    error: r.lastError ?? undefined,
    lastConfig: r.lastConfig ?? undefined,
    configSentAt: r.configSentAt ?? undefined,
  };
}
