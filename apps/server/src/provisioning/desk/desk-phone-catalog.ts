/**
 * Desk phones held in memory, so that a phone's fetch is answered without a database statement:
 * the devices (by MAC, id and secret), the SIP credentials of their lines, and the files rendered
 * for them with their ETags. Everything is dropped or bumped by the changes that affect it (the
 * device service's own writes, directory change events); last contacts are written behind.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { DeskContact, DeskPhone, DeskPhoneRepository } from './desk-phone-repository.js';
import type { RenderedFile } from './desk-vendors.js';

/** A line's SIP account as the directory has it. */
export interface LineCredentials {
  password: string;
  displayName: string | undefined;
}

/** Reads credentials from the directory (an inactive or unknown user: undefined). */
export type CredentialsSource = (domain: string, ext: string) => Promise<LineCredentials | undefined>;
/** Reads every active extension's credentials at once. */
export type AllCredentialsSource = () => Promise<Array<LineCredentials & { domain: string; ext: string }>>;

/** A rendered file with its validator. */
export interface CachedFile extends RenderedFile {
  etag: string;
}

/** How often an unchanged phone's last contact is written at most. */
export const CONTACT_WRITE_INTERVAL_MS = 60_000;
const CONTACT_BATCH = 1000;
const MAX_RENDERED = 100_000;

/** The in-memory catalog of desk phones. */
export class DeskPhoneCatalog {
  readonly #byId = new Map<string, DeskPhone>();
  readonly #byMac = new Map<string, DeskPhone>();
  readonly #bySecret = new Map<string, DeskPhone>();
  /** Bumped on every change of a device or its domain; part of each rendered file's key. */
  readonly #deviceRev = new Map<string, number>();
  readonly #domainRev = new Map<string, number>();
  readonly #credentials = new Map<string, Promise<LineCredentials | undefined>>();
  readonly #rendered = new Map<string, { stamp: string; file: CachedFile }>();
  readonly #written = new Map<string, { at: number; key: string }>();
  readonly #pending = new Map<string, DeskContact>();
  #flushing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly o: {
      repository: DeskPhoneRepository;
      credentials: CredentialsSource;
      /** When given, the lines' credentials are read in one go at start (a cold storm then reads nothing). */
      allCredentials?: AllCredentialsSource | undefined;
      logger: Logger;
      clock?: () => number;
    },
  ) {}

  /** Loads every desk phone. */
  async start(): Promise<void> {
    for (const p of await this.o.repository.loadAll()) this.put(p);
    if (this.o.allCredentials && this.#byId.size > 0) {
      const onLines = new Set<string>();
      for (const p of this.#byId.values()) for (const l of p.lines) onLines.add(`${p.domain}|${l.ext}`);
      for (const c of await this.o.allCredentials()) {
        const key = `${c.domain}|${c.ext}`;
        if (onLines.has(key))
          this.#credentials.set(key, Promise.resolve({ password: c.password, displayName: c.displayName }));
      }
    }
    this.o.logger.debug({ devices: this.#byId.size }, 'desk phones loaded');
  }

  /** Number of phones held. */
  get size(): number {
    return this.#byId.size;
  }

  byMac(mac: string): DeskPhone | undefined {
    return this.#byMac.get(mac);
  }

  byId(id: string): DeskPhone | undefined {
    return this.#byId.get(id);
  }

  bySecret(secret: string): DeskPhone | undefined {
    return this.#bySecret.get(secret);
  }

  /** Every phone carrying `userId` on a line. */
  withUser(userId: string): DeskPhone[] {
    return [...this.#byId.values()].filter((p) => p.lines.some((l) => l.userId === userId));
  }

  /** Domains that have phones. */
  domainIds(): string[] {
    return [...new Set([...this.#byId.values()].map((p) => p.domainId))];
  }

  /** Every phone of a domain. */
  inDomain(domainId: string): DeskPhone[] {
    return [...this.#byId.values()].filter((p) => p.domainId === domainId);
  }

  /** Adds or replaces a phone (after the database has it). */
  put(p: DeskPhone): void {
    const old = this.#byId.get(p.id);
    if (old) {
      this.#byMac.delete(old.mac);
      this.#bySecret.delete(old.secret);
    }
    this.#byId.set(p.id, p);
    this.#byMac.set(p.mac, p);
    this.#bySecret.set(p.secret, p);
    this.#deviceRev.set(p.id, (this.#deviceRev.get(p.id) ?? 0) + 1);
  }

  /** Forgets a phone. */
  remove(id: string): void {
    const old = this.#byId.get(id);
    if (!old) return;
    this.#byId.delete(id);
    this.#byMac.delete(old.mac);
    this.#bySecret.delete(old.secret);
    this.#deviceRev.delete(id);
    this.#pending.delete(id);
    this.#written.delete(id);
  }

  /** Something of the domain changed (a user, a setting): its files render again. */
  domainChanged(domainId: string, domain?: string): void {
    this.#domainRev.set(domainId, (this.#domainRev.get(domainId) ?? 0) + 1);
    if (domain !== undefined) {
      const prefix = `${domain}|`;
      for (const k of this.#credentials.keys()) if (k.startsWith(prefix)) this.#credentials.delete(k);
    } else this.#credentials.clear();
  }

  /** The SIP credentials of `ext@domain`, read once and kept until the domain changes. */
  credentials(domain: string, ext: string): Promise<LineCredentials | undefined> {
    const key = `${domain}|${ext}`;
    let hit = this.#credentials.get(key);
    if (!hit) {
      hit = this.o.credentials(domain, ext);
      this.#credentials.set(key, hit);
      hit.catch(() => this.#credentials.delete(key));
    }
    return hit;
  }

  /** The key under which a phone's file is valid: its own and its domain's revisions, and `extra`. */
  stamp(p: DeskPhone, extra: string): string {
    return `${this.#deviceRev.get(p.id) ?? 0}|${this.#domainRev.get(p.domainId) ?? 0}|${extra}`;
  }

  /** The rendered file `name` of `p` for `stamp`, rendering it when missing or out of date. */
  async file(p: DeskPhone, name: string, stamp: string, render: () => Promise<RenderedFile>): Promise<CachedFile> {
    const key = `${p.id}|${name}`;
    const hit = this.#rendered.get(key);
    if (hit && hit.stamp === stamp) return hit.file;
    const r = await render();
    const file: CachedFile = {
      ...r,
      etag: `"${createHash('sha256').update(r.body).digest('base64url').slice(0, 27)}"`,
    };
    if (this.#rendered.size >= MAX_RENDERED) this.#rendered.clear();
    this.#rendered.set(key, { stamp, file });
    return file;
  }

  /**
   * Records a fetch: kept in memory at once; written to the database behind the answer, and only
   * when something changed (address, firmware, User-Agent) or the last write is old.
   */
  recordContact(p: DeskPhone, c: Omit<DeskContact, 'id'>): void {
    p.lastContactAt = c.at;
    p.lastContactIp = c.ip;
    if (c.firmware) p.firmware = c.firmware;
    if (c.userAgent) p.userAgent = c.userAgent;
    if (c.model && !p.model) p.model = c.model;
    const key = `${c.ip}|${c.firmware ?? ''}|${c.userAgent ?? ''}`;
    const last = this.#written.get(p.id);
    const now = c.at.getTime();
    if (last && last.key === key && now - last.at < CONTACT_WRITE_INTERVAL_MS) return;
    this.#written.set(p.id, { at: now, key });
    this.#pending.set(p.id, { ...c, id: p.id });
    if (!this.#timer && !this.#closed) this.#timer = setTimeout(() => void this.flush(), 200);
  }

  /** Writes the recorded contacts now. */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flushing ??= this.#write().finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  async #write(): Promise<void> {
    while (this.#pending.size > 0) {
      const batch = [...this.#pending.values()].slice(0, CONTACT_BATCH);
      for (const c of batch) this.#pending.delete(c.id);
      try {
        await this.o.repository.writeContacts(batch);
      } catch (err) {
        // A lost contact is only a stale "last seen"; the next fetch writes it again.
        for (const c of batch) this.#written.delete(c.id);
        this.o.logger.warn({ err, contacts: batch.length }, 'desk-phone contacts not written');
        return;
      }
    }
  }

  /** Writes what is pending and stops the timer. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }
}
