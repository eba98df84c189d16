/**
 * Storage of desk phones: rows of provisioning_devices with template `desk` (MAC, vendor, model,
 * firmware, secret, keys, overrides) and their lines in provisioning_device_lines (position = the
 * phone's line number). The provisioning context's own tables only.
 */
import { and, asc, count, desc, eq, ilike, inArray, isNotNull, or, sql, type SQL } from 'drizzle-orm';
import { domains } from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import {
  provisioningDeviceLines,
  provisioningDevices,
  type DeskKey,
  type DeskOverrides,
  type DeskVendor,
} from '../provisioning-tables.js';
import type { DeskTransport } from './desk-config.js';

/** A desk phone's line. */
export interface DeskLineRecord {
  /** Line number on the phone (1-based). */
  no: number;
  userId: string;
  ext: string;
  transport: DeskTransport;
  enabled: boolean;
}

/** A desk phone as kept in memory and returned by the API. */
export interface DeskPhone {
  id: string;
  domainId: string;
  domain: string;
  mac: string;
  vendor: DeskVendor;
  model: string | undefined;
  firmware: string | undefined;
  userAgent: string | undefined;
  label: string | undefined;
  secret: string;
  status: 'active' | 'pending';
  enabled: boolean;
  keys: DeskKey[];
  overrides: DeskOverrides;
  lines: DeskLineRecord[];
  createdAt: Date;
  updatedAt: Date;
  lastContactAt: Date | undefined;
  lastContactIp: string | undefined;
}

/** A new desk phone. */
export interface NewDeskPhone {
  domainId: string;
  mac: string;
  vendor: DeskVendor;
  model?: string | undefined;
  label?: string | undefined;
  secret: string;
  status: 'active' | 'pending';
  keys: DeskKey[];
  overrides: DeskOverrides;
  lines: Array<Omit<DeskLineRecord, 'enabled'>>;
}

/** Search of {@link DeskPhoneRepository.search}; text filters match substrings, case-insensitively. */
export interface DeskPhoneQuery {
  domainId?: string | undefined;
  mac?: string | undefined;
  vendor?: string | undefined;
  model?: string | undefined;
  firmware?: string | undefined;
  /** Extension of a line. */
  user?: string | undefined;
  ip?: string | undefined;
  status?: 'active' | 'pending' | undefined;
  limit: number;
  offset: number;
}

/** A contact recorded from a phone's request (written behind, in batches). */
export interface DeskContact {
  id: string;
  at: Date;
  ip: string;
  firmware: string | undefined;
  model: string | undefined;
  userAgent: string | undefined;
}

const d = provisioningDevices;
const l = provisioningDeviceLines;

/** Reads and writes desk phones. */
export class DeskPhoneRepository {
  constructor(private readonly store: Store) {}

  /** Every desk phone with its lines (one query each), for the in-memory catalog. */
  async loadAll(): Promise<DeskPhone[]> {
    return this.#load(isNotNull(d.mac));
  }

  /** One desk phone by id or by MAC. */
  async find(by: { id: string } | { mac: string }): Promise<DeskPhone | undefined> {
    const [row] = await this.#load('id' in by ? and(eq(d.id, by.id), isNotNull(d.mac)) : eq(d.mac, by.mac));
    return row;
  }

  async #load(where: SQL | undefined): Promise<DeskPhone[]> {
    const rows = await this.store.db
      .select({ device: d, domain: domains.domain })
      .from(d)
      .innerJoin(domains, eq(domains.id, d.domainId))
      .where(where);
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.device.id);
    const lines = [];
    for (let i = 0; i < ids.length; i += 5000)
      lines.push(
        ...(await this.store.db
          .select()
          .from(l)
          .where(inArray(l.deviceId, ids.slice(i, i + 5000)))
          .orderBy(asc(l.position))),
      );
    const byDevice = new Map<string, DeskLineRecord[]>();
    for (const x of lines) {
      const list = byDevice.get(x.deviceId) ?? [];
      list.push({ no: x.position, userId: x.userId, ext: x.ext, transport: x.transport, enabled: x.enabled });
      byDevice.set(x.deviceId, list);
    }
    return rows.map(({ device: r, domain }) => ({
      id: r.id,
      domainId: r.domainId,
      domain,
      mac: r.mac!,
      vendor: r.vendor!,
      model: r.model ?? undefined,
      firmware: r.firmware ?? undefined,
      userAgent: r.userAgent ?? undefined,
      label: r.label ?? undefined,
      secret: r.secret!,
      status: r.status,
      enabled: r.enabled,
      keys: r.keys,
      overrides: r.overrides,
      lines: byDevice.get(r.id) ?? [],
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
      lastContactAt: r.lastProvisionedAt ?? undefined,
      lastContactIp: r.lastProvisionedIp ?? undefined,
    }));
  }

  /** Inserts a desk phone with its lines; returns its id. Throws the unique violation of a known MAC. */
  async insert(n: NewDeskPhone): Promise<string> {
    return this.store.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(d)
        .values({
          domainId: n.domainId,
          template: 'desk',
          mac: n.mac,
          vendor: n.vendor,
          model: n.model ?? null,
          label: n.label ?? null,
          secret: n.secret,
          status: n.status,
          keys: n.keys,
          overrides: n.overrides,
        })
        .returning({ id: d.id });
      const id = row!.id;
      if (n.lines.length > 0)
        await tx.insert(l).values(
          n.lines.map((x) => ({
            deviceId: id,
            domainId: n.domainId,
            userId: x.userId,
            ext: x.ext,
            position: x.no,
            transport: x.transport,
          })),
        );
      return id;
    });
  }

  /** Changes a desk phone's own fields. */
  async update(
    id: string,
    patch: Partial<{
      model: string | null;
      label: string | null;
      enabled: boolean;
      status: 'active' | 'pending';
      keys: DeskKey[];
      overrides: DeskOverrides;
    }>,
  ): Promise<void> {
    await this.store.db
      .update(d)
      .set({ ...patch, updatedAt: new Date() })
      .where(eq(d.id, id));
  }

  /** Replaces a desk phone's lines. */
  async replaceLines(id: string, domainId: string, lines: Array<Omit<DeskLineRecord, 'enabled'>>): Promise<void> {
    await this.store.db.transaction(async (tx) => {
      await tx.delete(l).where(eq(l.deviceId, id));
      if (lines.length > 0)
        await tx.insert(l).values(
          lines.map((x) => ({
            deviceId: id,
            domainId,
            userId: x.userId,
            ext: x.ext,
            position: x.no,
            transport: x.transport,
          })),
        );
      await tx.update(d).set({ updatedAt: new Date() }).where(eq(d.id, id));
    });
  }

  /** Deletes a desk phone (its lines go with it). */
  async delete(id: string): Promise<void> {
    await this.store.db.delete(d).where(eq(d.id, id));
  }

  /** A page of desk phones matching `q`, newest first, and how many match in all. */
  async search(q: DeskPhoneQuery): Promise<{ ids: string[]; total: number }> {
    const like = (col: SQL | typeof d.mac, v: string | undefined) =>
      v === undefined || v === '' ? undefined : ilike(col, `%${v.replace(/[\\%_]/g, '\\$&')}%`);
    const where = and(
      isNotNull(d.mac),
      q.domainId === undefined ? undefined : eq(d.domainId, q.domainId),
      q.status === undefined ? undefined : eq(d.status, q.status),
      like(d.mac, q.mac),
      q.vendor === undefined ? undefined : eq(d.vendor, q.vendor as DeskVendor),
      like(sql`coalesce(${d.model}, '')`, q.model),
      like(sql`coalesce(${d.firmware}, '')`, q.firmware),
      like(sql`coalesce(${d.lastProvisionedIp}, '')`, q.ip),
      q.user === undefined
        ? undefined
        : inArray(
            d.id,
            this.store.db
              .select({ id: l.deviceId })
              .from(l)
              .where(or(eq(l.ext, q.user))),
          ),
    );
    const [total] = await this.store.db.select({ n: count() }).from(d).where(where);
    const rows = await this.store.db
      .select({ id: d.id })
      .from(d)
      .where(where)
      .orderBy(desc(d.createdAt), desc(d.id))
      .limit(q.limit)
      .offset(q.offset);
    return { ids: rows.map((r) => r.id), total: Number(total?.n ?? 0) };
  }

  /** Writes recorded contacts, one statement per batch (the last contact of each device wins). */
  async writeContacts(batch: DeskContact[]): Promise<void> {
    if (batch.length === 0) return;
    const rows = new Map<string, DeskContact>();
    for (const c of batch) rows.set(c.id, c);
    const values = sql.join(
      [...rows.values()].map(
        (c) =>
          sql`(${c.id}::uuid, ${c.at.toISOString()}::timestamptz, ${c.ip}::text, ${c.firmware ?? null}::text, ${c.model ?? null}::text, ${c.userAgent ?? null}::text)`,
      ),
      sql`, `,
    );
    await this.store.db.execute(sql`
      update ${d} as x
      set last_provisioned_at = v.at, last_provisioned_ip = v.ip,
        firmware = coalesce(v.firmware, x.firmware), model = coalesce(x.model, v.model),
        user_agent = coalesce(v.ua, x.user_agent)
      from (values ${values}) as v(id, at, ip, firmware, model, ua)
      where x.id = v.id`);
  }
}
