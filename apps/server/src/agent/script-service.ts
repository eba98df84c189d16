import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { AuditLog } from '../directory/audit-log.js';
import { DirectoryError } from '../directory/directory-error.js';
import { uniqueViolation } from '../directory/directory-service.js';
import type { Principal } from '../directory/principal.js';
import type { Store } from '../store/store.js';
import { agentAccess as access } from './agent-access.js';
import { agentScripts, agentScriptVersions } from './agent-tables.js';
import { UUID } from './campaign-service.js';
import type { ScriptRun, ScriptSandbox } from './script-sandbox.js';

/** A script as the API shows it: its current source and the versions saved. */
export interface ScriptRecord {
  id: string;
  domainId: string;
  name: string;
  version: number;
  source: string;
  versions: Array<{ version: number; createdAt: string }>;
  createdAt: string;
  updatedAt: string;
}

/** Longest script source. */
export const MAX_SCRIPT_SOURCE = 100_000;

/**
 * Per-domain scripts (the seed's ScriptForge). Every change of the source is a new version; the
 * latest is the one buttons and forms run, earlier ones stay readable (and testable). Owners
 * and admins manage them; agents never read a source, they only cause runs.
 */
export class ScriptService {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    readonly sandbox: ScriptSandbox,
  ) {}

  /** The domain's scripts (managers), without their versions' history. */
  async list(p: Principal, domainId: string): Promise<ScriptRecord[]> {
    access.requireManager(p, domainId, 'domain');
    const rows = await this.store.db
      .select({ s: agentScripts, source: agentScriptVersions.source })
      .from(agentScripts)
      .innerJoin(
        agentScriptVersions,
        and(eq(agentScriptVersions.scriptId, agentScripts.id), eq(agentScriptVersions.version, agentScripts.version)),
      )
      .where(eq(agentScripts.domainId, domainId))
      .orderBy(asc(agentScripts.name));
    return rows.map((r) => view(r.s, r.source, []));
  }

  /** One script with its current source and version list (`version`: that version's source). */
  async get(p: Principal, id: string, version?: number): Promise<ScriptRecord> {
    const s = await this.load(p, id);
    const versions = await this.store.db
      .select({
        version: agentScriptVersions.version,
        source: agentScriptVersions.source,
        createdAt: agentScriptVersions.createdAt,
      })
      .from(agentScriptVersions)
      .where(eq(agentScriptVersions.scriptId, id))
      .orderBy(desc(agentScriptVersions.version));
    const wanted = versions.find((v) => v.version === (version ?? s.version));
    if (!wanted) throw DirectoryError.notFound('script version');
    return {
      ...view(
        s,
        wanted.source,
        versions.map((v) => ({ version: v.version, createdAt: v.createdAt.toISOString() })),
      ),
      version: wanted.version,
    };
  }

  /** Creates a script (version 1). */
  async create(p: Principal, domainId: string, input: { name: string; source: string }): Promise<ScriptRecord> {
    access.requireManager(p, domainId, 'domain');
    const id = await this.write(async (tx) => {
      const [s] = await tx.insert(agentScripts).values({ domainId, name: input.name }).returning();
      await tx
        .insert(agentScriptVersions)
        .values({ scriptId: s!.id, version: 1, source: input.source, createdBy: p.userId ?? null });
      return s!.id;
    });
    await this.audit.record(p, {
      action: 'create',
      resource: 'agent-script',
      resourceId: id,
      domainId,
      detail: { name: input.name },
    });
    return this.get(p, id);
  }

  /** Renames a script and/or saves a new version of its source. */
  async update(
    p: Principal,
    id: string,
    patch: { name?: string | undefined; source?: string | undefined },
  ): Promise<ScriptRecord> {
    const s = await this.load(p, id);
    await this.write(async (tx) => {
      // The row lock orders concurrent saves, so each gets its own version number.
      const [cur] = await tx.select().from(agentScripts).where(eq(agentScripts.id, id)).for('update');
      const [latest] = await tx
        .select({ source: agentScriptVersions.source })
        .from(agentScriptVersions)
        .where(and(eq(agentScriptVersions.scriptId, id), eq(agentScriptVersions.version, cur!.version)));
      let version = cur!.version;
      if (patch.source !== undefined && patch.source !== latest?.source) {
        version += 1;
        await tx
          .insert(agentScriptVersions)
          .values({ scriptId: id, version, source: patch.source, createdBy: p.userId ?? null });
      }
      await tx
        .update(agentScripts)
        .set({ version, ...(patch.name !== undefined ? { name: patch.name } : {}), updatedAt: sql`now()` })
        .where(eq(agentScripts.id, id));
    });
    await this.audit.record(p, {
      action: 'update',
      resource: 'agent-script',
      resourceId: id,
      domainId: s.domainId,
      detail: { fields: Object.keys(patch) },
    });
    return this.get(p, id);
  }

  /** Deletes a script (buttons and forms that ran it no longer run a script). */
  async delete(p: Principal, id: string): Promise<void> {
    const s = await this.load(p, id);
    await this.store.db.delete(agentScripts).where(eq(agentScripts.id, id));
    await this.audit.record(p, {
      action: 'delete',
      resource: 'agent-script',
      resourceId: id,
      domainId: s.domainId,
      detail: { name: s.name },
    });
  }

  /** The test console: runs a saved script (a version of it, or the latest) with sample input. */
  async test(
    p: Principal,
    id: string,
    input: unknown,
    o: { fn?: string | undefined; version?: number | undefined } = {},
  ): Promise<ScriptRun> {
    const s = await this.get(p, id, o.version);
    return this.sandbox.run(s.source, input, o.fn ?? 'main');
  }

  /** The test console for unsaved source (managers of some domain). */
  async testSource(p: Principal, domainId: string, source: string, input: unknown, fn = 'main'): Promise<ScriptRun> {
    access.requireManager(p, domainId, 'domain');
    return this.sandbox.run(source, input, fn);
  }

  /** Runs the latest version of a script of `domainId` (for buttons and forms); undefined when it is gone. */
  async runLatest(
    domainId: string,
    id: string,
    input: unknown,
    fn = 'main',
  ): Promise<{ name: string; run: ScriptRun } | undefined> {
    const [row] = await this.store.db
      .select({ name: agentScripts.name, source: agentScriptVersions.source })
      .from(agentScripts)
      .innerJoin(
        agentScriptVersions,
        and(eq(agentScriptVersions.scriptId, agentScripts.id), eq(agentScriptVersions.version, agentScripts.version)),
      )
      .where(and(eq(agentScripts.id, id), eq(agentScripts.domainId, domainId)));
    if (!row) return undefined;
    return { name: row.name, run: await this.sandbox.run(row.source, input, fn) };
  }

  /** True when `id` is a script of `domainId`. */
  async exists(domainId: string, id: string): Promise<boolean> {
    if (!UUID.test(id)) return false;
    const [row] = await this.store.db
      .select({ id: agentScripts.id })
      .from(agentScripts)
      .where(and(eq(agentScripts.id, id), eq(agentScripts.domainId, domainId)));
    return row !== undefined;
  }

  private async load(p: Principal, id: string): Promise<typeof agentScripts.$inferSelect> {
    if (!UUID.test(id)) throw DirectoryError.notFound('script');
    const [s] = await this.store.db.select().from(agentScripts).where(eq(agentScripts.id, id));
    if (!s) throw DirectoryError.notFound('script');
    access.requireManager(p, s.domainId, 'script');
    return s;
  }

  private async write<T>(fn: (tx: Parameters<Parameters<Store['db']['transaction']>[0]>[0]) => Promise<T>): Promise<T> {
    try {
      return await this.store.db.transaction(fn);
    } catch (err) {
      if (uniqueViolation(err) === 'agent_scripts_domain_name_key')
        throw new DirectoryError('CONFLICT', 'a script of that name exists in this domain');
      throw err;
    }
  }
}

function view(s: typeof agentScripts.$inferSelect, source: string, versions: ScriptRecord['versions']): ScriptRecord {
  return {
    id: s.id,
    domainId: s.domainId,
    name: s.name,
    version: s.version,
    source,
    versions,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}
