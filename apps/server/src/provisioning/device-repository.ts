import { and, asc, countDistinct, eq, inArray, max, or, sql } from 'drizzle-orm';
import type { Database, Store, Transaction } from '../store/store.js';
import { provisioningDeviceLines, provisioningDevices, type DeviceTemplate } from './provisioning-tables.js';
import type { SessionTalkTransport } from './sessiontalk-settings.js';

type Db = Database | Transaction;
/** A device row. */
export type DeviceRow = typeof provisioningDevices.$inferSelect;
/** A line row. */
export type LineRow = typeof provisioningDeviceLines.$inferSelect;

/** A line as the provisioning answer needs it. */
export interface AnswerLine {
  ext: string;
  transport: SessionTalkTransport;
}

/** A device read for an answer, with its enabled lines in order (read in the same query). */
export interface DeviceForAnswer extends DeviceRow {
  enabledLines: AnswerLine[];
}

/** A device with its lines, as listed. */
export interface DeviceWithLines extends DeviceRow {
  lines: LineRow[];
}

/** Input of {@link DeviceRepository.create}. */
export interface NewDevice {
  domainId: string;
  template: DeviceTemplate;
  appDeviceId: string;
  ext: string;
  label: string | undefined;
  codeId: string;
  codeHash: string;
  codeExpiresAt: Date;
  line: { userId: string; ext: string; transport: SessionTalkTransport };
}

/** A contact waiting to be written by {@link DeviceRepository.markProvisioned}. */
interface Mark {
  id: string;
  at: Date;
  ip: string;
  jsonMd5: string | undefined;
  done: (err?: Error) => void;
}
/** Contacts written by one UPDATE at most (4 parameters each). */
const MARK_BATCH = 1000;

/** Storage of activated devices and their lines (the provisioning context's own tables). */
export class DeviceRepository {
  readonly #marks: Mark[] = [];
  #writingMarks = false;

  constructor(private readonly store: Store) {}

  /** Runs `fn` in one transaction, serialized with other activations of the same extension. */
  async withExtensionLock<T>(domainId: string, ext: string, fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.store.db.transaction(async (tx) => {
      // Two apps activating at once must not both pass max_activations.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`provisioning|${domainId}|${ext}`}))`);
      return fn(tx);
    });
  }

  /**
   * In one query, the device activated with the code whose keyed hash is `codeHash` and the device
   * of the app installation `appDeviceId`, both in `domainId` (the same row when they are paired),
   * each with its enabled lines: a re-provisioning app needs no other read of these tables.
   */
  async findByCodeOrApp(
    domainId: string,
    codeHash: string,
    appDeviceId: string,
    db: Db = this.store.db,
  ): Promise<{ byCode: DeviceForAnswer | undefined; byApp: DeviceForAnswer | undefined }> {
    const rows = await db
      .select({
        device: provisioningDevices,
        // Written out: drizzle leaves columns unqualified inside a selected expression, and the
        // correlated "id" would then name the line's own id.
        lines: sql<AnswerLine[] | string | null>`(
          select json_agg(json_build_object('ext', l.ext, 'transport', l.transport) order by l.position)
          from provisioning_device_lines l where l.device_id = "provisioning_devices"."id" and l.enabled)`,
      })
      .from(provisioningDevices)
      .where(
        and(
          eq(provisioningDevices.domainId, domainId),
          or(eq(provisioningDevices.codeHash, codeHash), eq(provisioningDevices.appDeviceId, appDeviceId)),
        ),
      );
    const devices = rows.map((r): DeviceForAnswer => {
      // Drivers hand json over parsed (node-postgres, PGlite) or as text.
      const lines = typeof r.lines === 'string' ? (JSON.parse(r.lines) as AnswerLine[]) : r.lines;
      return { ...r.device, enabledLines: lines ?? [] };
    });
    return {
      byCode: devices.find((d) => d.codeHash === codeHash),
      byApp: devices.find((d) => d.appDeviceId === appDeviceId),
    };
  }

  /** A device by id. */
  async get(id: string, db: Db = this.store.db): Promise<DeviceWithLines | undefined> {
    const [row] = await db.select().from(provisioningDevices).where(eq(provisioningDevices.id, id));
    if (!row) return undefined;
    return { ...row, lines: await this.lines(id, { enabledOnly: false }, db) };
  }

  /** Devices of a domain (of those carrying one user as a line when given), newest first, with lines. */
  async list(filter: { domainId?: string | undefined; userId?: string | undefined }): Promise<DeviceWithLines[]> {
    const db = this.store.db;
    const where = and(
      filter.domainId === undefined ? undefined : eq(provisioningDevices.domainId, filter.domainId),
      filter.userId === undefined
        ? undefined
        : inArray(
            provisioningDevices.id,
            db
              .select({ id: provisioningDeviceLines.deviceId })
              .from(provisioningDeviceLines)
              .where(eq(provisioningDeviceLines.userId, filter.userId)),
          ),
    );
    const devices = await db
      .select()
      .from(provisioningDevices)
      .where(where)
      .orderBy(sql`${provisioningDevices.createdAt} desc`);
    if (devices.length === 0) return [];
    const lines = await db
      .select()
      .from(provisioningDeviceLines)
      .where(
        inArray(
          provisioningDeviceLines.deviceId,
          devices.map((d) => d.id),
        ),
      )
      .orderBy(asc(provisioningDeviceLines.position));
    return devices.map((d) => ({ ...d, lines: lines.filter((l) => l.deviceId === d.id) }));
  }

  /** Creates a device with its first line. */
  async create(d: NewDevice, db: Db = this.store.db): Promise<DeviceRow> {
    const [row] = await db
      .insert(provisioningDevices)
      .values({
        domainId: d.domainId,
        template: d.template,
        appDeviceId: d.appDeviceId,
        ext: d.ext,
        label: d.label ?? null,
        codeId: d.codeId,
        codeHash: d.codeHash,
        codeExpiresAt: d.codeExpiresAt,
      })
      .returning();
    await db.insert(provisioningDeviceLines).values({
      deviceId: row!.id,
      domainId: d.domainId,
      userId: d.line.userId,
      ext: d.line.ext,
      position: 1,
      transport: d.line.transport,
    });
    return row!;
  }

  /** Hands a device over to another app installation (a used code scanned by a new app). */
  async moveToApp(id: string, appDeviceId: string, template: DeviceTemplate, db: Db = this.store.db): Promise<void> {
    await db
      .update(provisioningDevices)
      // The new app has never received the accounts: clearing the hash makes it get them.
      .set({ appDeviceId, template, jsonMd5: null, updatedAt: new Date() })
      .where(eq(provisioningDevices.id, id));
  }

  /** Deletes devices (their lines go with them); returns how many existed. */
  async delete(ids: string[], db: Db = this.store.db): Promise<number> {
    if (ids.length === 0) return 0;
    const gone = await db
      .delete(provisioningDevices)
      .where(inArray(provisioningDevices.id, ids))
      .returning({ id: provisioningDevices.id });
    return gone.length;
  }

  /** Apps activated for a user: devices carrying it as an enabled line. */
  async countActivations(userId: string, db: Db = this.store.db): Promise<number> {
    const [row] = await db
      .select({ n: countDistinct(provisioningDeviceLines.deviceId) })
      .from(provisioningDeviceLines)
      .where(and(eq(provisioningDeviceLines.userId, userId), eq(provisioningDeviceLines.enabled, true)));
    return Number(row?.n ?? 0);
  }

  /** A device's lines in order. */
  async lines(deviceId: string, opts: { enabledOnly: boolean }, db: Db = this.store.db): Promise<LineRow[]> {
    return db
      .select()
      .from(provisioningDeviceLines)
      .where(
        and(
          eq(provisioningDeviceLines.deviceId, deviceId),
          opts.enabledOnly ? eq(provisioningDeviceLines.enabled, true) : undefined,
        ),
      )
      .orderBy(asc(provisioningDeviceLines.position));
  }

  /** Adds a line at the end; false when the device already carries that user. */
  async addLine(
    deviceId: string,
    line: { domainId: string; userId: string; ext: string; transport: SessionTalkTransport },
  ): Promise<boolean> {
    return this.store.db.transaction(async (tx) => {
      const [top] = await tx
        .select({ n: max(provisioningDeviceLines.position) })
        .from(provisioningDeviceLines)
        .where(eq(provisioningDeviceLines.deviceId, deviceId));
      const inserted = await tx
        .insert(provisioningDeviceLines)
        .values({ deviceId, ...line, position: (top?.n ?? 0) + 1 })
        .onConflictDoNothing()
        .returning({ id: provisioningDeviceLines.id });
      return inserted.length > 0;
    });
  }

  /** Updates the device's enabled flag and/or stored accounts hash; false when there is no such device. */
  async update(id: string, patch: { enabled?: boolean; jsonMd5?: string | null }): Promise<boolean> {
    const updated = await this.store.db
      .update(provisioningDevices)
      .set({ ...patch, updatedAt: new Date() })
      .where(eq(provisioningDevices.id, id))
      .returning({ id: provisioningDevices.id });
    return updated.length > 0;
  }

  /**
   * Records a contact from the app, and the accounts hash when accounts were sent; resolves once
   * written. Contacts recorded meanwhile share one UPDATE (group commit): a fleet re-provisioning
   * at once costs one statement per batch instead of one per app.
   */
  markProvisioned(id: string, at: Date, ip: string, jsonMd5?: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#marks.push({ id, at, ip, jsonMd5, done: (err) => (err === undefined ? resolve() : reject(err)) });
      if (!this.#writingMarks) void this.#writeMarks();
    });
  }

  async #writeMarks(): Promise<void> {
    this.#writingMarks = true;
    // The contacts of this turn of the event loop join the first statement.
    await new Promise((r) => setImmediate(r));
    while (this.#marks.length > 0) {
      const batch = this.#marks.splice(0, MARK_BATCH);
      try {
        await this.#updateMarks(batch);
        for (const m of batch) m.done();
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        for (const m of batch) m.done(e);
      }
    }
    this.#writingMarks = false;
  }

  async #updateMarks(batch: Mark[]): Promise<void> {
    // One row per device: the last contact, and the last hash sent (as if written in order).
    const rows = new Map<string, { at: Date; ip: string; jsonMd5: string | undefined }>();
    for (const m of batch) rows.set(m.id, { at: m.at, ip: m.ip, jsonMd5: m.jsonMd5 ?? rows.get(m.id)?.jsonMd5 });
    const values = sql.join(
      [...rows].map(
        ([id, r]) => sql`(${id}::uuid, ${r.at.toISOString()}::timestamptz, ${r.ip}::text, ${r.jsonMd5 ?? null}::text)`,
      ),
      sql`, `,
    );
    await this.store.db.execute(sql`
      update ${provisioningDevices} as d
      set last_provisioned_at = v.at, last_provisioned_ip = v.ip, json_md5 = coalesce(v.md5, d.json_md5)
      from (values ${values}) as v(id, at, ip, md5)
      where d.id = v.id`);
  }
}
