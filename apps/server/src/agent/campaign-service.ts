import { and, asc, count, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { AuditLog } from '../directory/audit-log.js';
import { DirectoryError } from '../directory/directory-error.js';
import { uniqueViolation } from '../directory/directory-service.js';
import { userGroups } from '../directory/directory-tables.js';
import { keywordFilter, pageBounds, toPage, type Page, type PageRequest } from '../directory/paged-list.js';
import type { Principal } from '../directory/principal.js';
import { cdrs, users } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { agentAccess as access } from './agent-access.js';
import {
  agentCampaignMembers,
  agentCampaigns,
  agentFormSubmissions,
  agentLeadCalls,
  agentLeads,
  type CampaignStatus,
  type LeadStatus,
} from './agent-tables.js';
import type { LeadInput } from './lead-input.js';

/** A campaign as the API shows it. */
export interface CampaignRecord {
  id: string;
  domainId: string;
  name: string;
  status: CampaignStatus;
  callerId: string | null;
  leadTimeoutS: number;
  /** Extensions of the users assigned. */
  agents: string[];
  /** Extensions of the groups assigned (their members work the campaign). */
  groups: string[];
  leads: { queued: number; assigned: number; done: number };
  createdAt: string;
  updatedAt: string;
}

/** What creating a campaign takes. */
export interface NewCampaignInput {
  name: string;
  status?: CampaignStatus | undefined;
  callerId?: string | null | undefined;
  leadTimeoutS?: number | undefined;
  agents?: string[] | undefined;
  groups?: string[] | undefined;
}

/** A change to a campaign (`agents` / `groups` replace the lists). */
export type CampaignPatch = Partial<NewCampaignInput>;

/** A call placed to a lead, with the outcome from its CDR once the call has ended. */
export interface LeadCallRecord {
  callId: string;
  target: 'phone' | 'alt_phone' | 'phone_code';
  number: string;
  agent: string | null;
  at: string;
  /** From the CDR: answered, busy, no-answer, ... (null while the call is on, or if it never reached the server). */
  disposition: string | null;
  durationS: number | null;
  cdrId: string | null;
}

/** A lead as the API shows it (`calls` and `forms` on the single-lead views). */
export interface LeadRecord {
  id: string;
  campaignId: string;
  position: number;
  name: string | null;
  phone: string;
  alt_phone: string | null;
  phone_code: string | null;
  fields: Record<string, unknown>;
  status: LeadStatus;
  /** The agent holding it, or the last that did (extension). */
  agent: string | null;
  assignedAt: string | null;
  attempts: number;
  decision: 'Yes' | 'No' | 'Unknown' | null;
  decidedAt: string | null;
  calls?: LeadCallRecord[];
  forms?: Array<{ formId: string; data: Record<string, unknown>; at: string }>;
}

/** Filters of a lead list. */
export interface LeadQuery extends PageRequest {
  status?: LeadStatus | undefined;
  decision?: 'Yes' | 'No' | 'Unknown' | undefined;
}

type CampaignRow = typeof agentCampaigns.$inferSelect;
type LeadRow = typeof agentLeads.$inferSelect;

/** Leads written per INSERT of an import. */
const INSERT_BATCH = 500;

/**
 * Campaigns of a domain, who works them, and their leads (imported all or nothing). Owners and
 * admins manage them; an agent sees only the campaigns it is a member of (directly or through
 * its group), and leads only through the preview dialer.
 */
export class CampaignService {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
  ) {}

  /** Campaigns: a manager's whole domain (a superadmin's named domain or all), an agent's own. */
  async list(p: Principal, q: PageRequest & { domainId?: string | undefined } = {}): Promise<Page<CampaignRecord>> {
    const b = pageBounds(q);
    const domainId = p.role === 'superadmin' ? q.domainId : p.domainId;
    const conds: (SQL | undefined)[] = [
      domainId === undefined ? undefined : eq(agentCampaigns.domainId, domainId),
      keywordFilter(q.keyword, [agentCampaigns.name]),
      access.isManager(p) ? undefined : inArray(agentCampaigns.id, this.memberCampaignIds(access.domainUser(p))),
    ];
    const where = and(...conds);
    const [rows, [total]] = await Promise.all([
      this.store.db
        .select()
        .from(agentCampaigns)
        .where(where)
        .orderBy(asc(agentCampaigns.name))
        .limit(b.limit)
        .offset(b.offset),
      this.store.db.select({ n: count() }).from(agentCampaigns).where(where),
    ]);
    return toPage(await this.views(rows), Number(total?.n ?? 0), b);
  }

  /** One campaign (an agent: only one it works). */
  async get(p: Principal, id: string): Promise<CampaignRecord> {
    const row = await this.load(p, id, false);
    return (await this.views([row]))[0]!;
  }

  /** Creates a campaign in `domainId` with its agents and groups (by extension). */
  async create(p: Principal, domainId: string, input: NewCampaignInput): Promise<CampaignRecord> {
    access.requireManager(p, domainId, 'domain');
    const members = await this.resolveMembers(domainId, input.agents ?? [], input.groups ?? []);
    const row = await this.write(async (tx) => {
      const [c] = await tx
        .insert(agentCampaigns)
        .values({
          domainId,
          name: input.name,
          status: input.status ?? 'active',
          callerId: input.callerId ?? null,
          leadTimeoutS: input.leadTimeoutS ?? 300,
        })
        .returning();
      await this.setMembers(tx, c!.id, members);
      return c!;
    });
    await this.audit.record(p, {
      action: 'create',
      resource: 'campaign',
      resourceId: row.id,
      domainId,
      detail: { name: input.name },
    });
    return this.get(p, row.id);
  }

  /** Changes a campaign. */
  async update(p: Principal, id: string, patch: CampaignPatch): Promise<CampaignRecord> {
    const c = await this.load(p, id, true);
    const members =
      patch.agents !== undefined || patch.groups !== undefined
        ? await this.resolveMembers(
            c.domainId,
            patch.agents ?? (await this.memberExts(c.id)).agents,
            patch.groups ?? (await this.memberExts(c.id)).groups,
          )
        : undefined;
    await this.write(async (tx) => {
      const set: Partial<CampaignRow> = {};
      if (patch.name !== undefined) set.name = patch.name;
      if (patch.status !== undefined) set.status = patch.status;
      if (patch.callerId !== undefined) set.callerId = patch.callerId;
      if (patch.leadTimeoutS !== undefined) set.leadTimeoutS = patch.leadTimeoutS;
      await tx
        .update(agentCampaigns)
        .set({ ...set, updatedAt: sql`now()` })
        .where(eq(agentCampaigns.id, id));
      if (members) {
        await tx.delete(agentCampaignMembers).where(eq(agentCampaignMembers.campaignId, id));
        await this.setMembers(tx, id, members);
      }
    });
    await this.audit.record(p, {
      action: 'update',
      resource: 'campaign',
      resourceId: id,
      domainId: c.domainId,
      detail: { fields: Object.keys(patch) },
    });
    return this.get(p, id);
  }

  /** Deletes a campaign with its leads. */
  async delete(p: Principal, id: string): Promise<void> {
    const c = await this.load(p, id, true);
    await this.store.db.delete(agentCampaigns).where(eq(agentCampaigns.id, id));
    await this.audit.record(p, {
      action: 'delete',
      resource: 'campaign',
      resourceId: id,
      domainId: c.domainId,
      detail: { name: c.name },
    });
  }

  /** Appends leads to a campaign, all or nothing, in the order given. */
  async importLeads(p: Principal, id: string, leads: readonly LeadInput[]): Promise<{ imported: number }> {
    const c = await this.load(p, id, true);
    await this.store.db.transaction(async (tx) => {
      // Positions continue after the campaign's last lead; the campaign row lock orders concurrent imports.
      await tx.execute(sql`select id from agent_campaigns where id = ${id} for update`);
      const [last] = await tx
        .select({ max: sql<number | null>`max(${agentLeads.position})` })
        .from(agentLeads)
        .where(eq(agentLeads.campaignId, id));
      const start = Number(last?.max ?? 0) + 1;
      for (let i = 0; i < leads.length; i += INSERT_BATCH) {
        await tx.insert(agentLeads).values(
          leads.slice(i, i + INSERT_BATCH).map((l, j) => ({
            campaignId: id,
            domainId: c.domainId,
            position: start + i + j,
            name: l.name,
            phone: l.phone,
            altPhone: l.altPhone,
            phoneCode: l.phoneCode,
            fields: l.fields,
          })),
        );
      }
    });
    await this.audit.record(p, {
      action: 'import',
      resource: 'campaign-leads',
      resourceId: id,
      domainId: c.domainId,
      detail: { count: leads.length },
    });
    return { imported: leads.length };
  }

  /** Leads of a campaign, in queue order (managers). */
  async listLeads(p: Principal, id: string, q: LeadQuery = {}): Promise<Page<LeadRecord>> {
    await this.load(p, id, true);
    const b = pageBounds(q);
    const where = and(
      eq(agentLeads.campaignId, id),
      q.status === undefined ? undefined : eq(agentLeads.status, q.status),
      q.decision === undefined ? undefined : eq(agentLeads.decision, q.decision),
      keywordFilter(q.keyword, [agentLeads.name, agentLeads.phone, agentLeads.altPhone, agentLeads.fields]),
    );
    const [rows, [total]] = await Promise.all([
      this.store.db
        .select({ lead: agentLeads, ext: users.ext })
        .from(agentLeads)
        .leftJoin(users, eq(users.id, agentLeads.assignedTo))
        .where(where)
        .orderBy(asc(agentLeads.position))
        .limit(b.limit)
        .offset(b.offset),
      this.store.db.select({ n: count() }).from(agentLeads).where(where),
    ]);
    return toPage(
      rows.map((r) => leadView(r.lead, r.ext)),
      Number(total?.n ?? 0),
      b,
    );
  }

  /** One lead with its calls (and their CDR outcomes) and submitted forms (managers). */
  async getLead(p: Principal, campaignId: string, leadId: string): Promise<LeadRecord> {
    await this.load(p, campaignId, true);
    const lead = await this.leadWithHistory(leadId);
    if (!lead || lead.campaignId !== campaignId) throw DirectoryError.notFound('lead');
    return lead;
  }

  /** Deletes one lead (managers). */
  async deleteLead(p: Principal, campaignId: string, leadId: string): Promise<void> {
    const c = await this.load(p, campaignId, true);
    const gone = await this.store.db
      .delete(agentLeads)
      .where(and(eq(agentLeads.id, leadId), eq(agentLeads.campaignId, campaignId)))
      .returning({ id: agentLeads.id });
    if (gone.length === 0) throw DirectoryError.notFound('lead');
    await this.audit.record(p, { action: 'delete', resource: 'lead', resourceId: leadId, domainId: c.domainId });
  }

  /** A lead with its calls and forms, whoever may see it (callers check). */
  async leadWithHistory(leadId: string): Promise<LeadRecord | undefined> {
    if (!UUID.test(leadId)) return undefined;
    const [row] = await this.store.db
      .select({ lead: agentLeads, ext: users.ext })
      .from(agentLeads)
      .leftJoin(users, eq(users.id, agentLeads.assignedTo))
      .where(eq(agentLeads.id, leadId));
    if (!row) return undefined;
    const [calls, forms] = await Promise.all([
      this.store.db
        .select({
          call: agentLeadCalls,
          ext: users.ext,
          cdr: { id: cdrs.id, disposition: cdrs.disposition, durationS: cdrs.durationS },
        })
        .from(agentLeadCalls)
        .leftJoin(users, eq(users.id, agentLeadCalls.userId))
        .leftJoin(cdrs, eq(cdrs.callId, agentLeadCalls.callId))
        .where(eq(agentLeadCalls.leadId, leadId))
        .orderBy(asc(agentLeadCalls.createdAt)),
      this.store.db
        .select()
        .from(agentFormSubmissions)
        .where(eq(agentFormSubmissions.leadId, leadId))
        .orderBy(asc(agentFormSubmissions.createdAt)),
    ]);
    return {
      ...leadView(row.lead, row.ext),
      calls: calls.map((c) => ({
        callId: c.call.callId,
        target: c.call.target,
        number: c.call.number,
        agent: c.ext,
        at: c.call.createdAt.toISOString(),
        disposition: c.cdr?.disposition ?? null,
        durationS: c.cdr?.durationS ?? null,
        cdrId: c.cdr?.id ?? null,
      })),
      forms: forms.map((f) => ({ formId: f.formId, data: f.data, at: f.createdAt.toISOString() })),
    };
  }

  /** Ids of the active campaigns `u` works (directly or through its group), as a subquery. */
  memberCampaignIds(u: { userId: string; domainId: string }) {
    return this.store.db
      .select({ id: agentCampaignMembers.campaignId })
      .from(agentCampaignMembers)
      .innerJoin(users, eq(users.id, u.userId))
      .where(
        sql`${agentCampaignMembers.userId} = ${u.userId} or (${agentCampaignMembers.groupId} is not null and ${agentCampaignMembers.groupId} = ${users.groupId})`,
      );
  }

  /** The campaign, when `p` may see it (`manage`: and change it). */
  private async load(p: Principal, id: string, manage: boolean): Promise<CampaignRow> {
    if (!UUID.test(id)) throw DirectoryError.notFound('campaign');
    const [row] = await this.store.db.select().from(agentCampaigns).where(eq(agentCampaigns.id, id));
    if (!row) throw DirectoryError.notFound('campaign');
    access.requireInDomain(p, row.domainId, 'campaign');
    if (manage) access.requireManager(p, row.domainId, 'campaign');
    else if (!access.isManager(p)) {
      const mine = await this.memberCampaignIds(access.domainUser(p));
      if (!mine.some((m) => m.id === id)) throw DirectoryError.notFound('campaign');
    }
    return row;
  }

  private async views(rows: CampaignRow[]): Promise<CampaignRecord[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [members, counts] = await Promise.all([
      this.store.db
        .select({ campaignId: agentCampaignMembers.campaignId, userExt: users.ext, groupExt: userGroups.ext })
        .from(agentCampaignMembers)
        .leftJoin(users, eq(users.id, agentCampaignMembers.userId))
        .leftJoin(userGroups, eq(userGroups.id, agentCampaignMembers.groupId))
        .where(inArray(agentCampaignMembers.campaignId, ids)),
      this.store.db
        .select({ campaignId: agentLeads.campaignId, status: agentLeads.status, n: count() })
        .from(agentLeads)
        .where(inArray(agentLeads.campaignId, ids))
        .groupBy(agentLeads.campaignId, agentLeads.status),
    ]);
    return rows.map((r) => {
      const leads = { queued: 0, assigned: 0, done: 0 };
      for (const c of counts) if (c.campaignId === r.id) leads[c.status] = Number(c.n);
      const mine = members.filter((m) => m.campaignId === r.id);
      return {
        id: r.id,
        domainId: r.domainId,
        name: r.name,
        status: r.status,
        callerId: r.callerId,
        leadTimeoutS: r.leadTimeoutS,
        agents: mine.flatMap((m) => (m.userExt ? [m.userExt] : [])).sort(),
        groups: mine.flatMap((m) => (m.groupExt ? [m.groupExt] : [])).sort(),
        leads,
        createdAt: r.createdAt.toISOString(),
        updatedAt: r.updatedAt.toISOString(),
      };
    });
  }

  private async memberExts(id: string): Promise<{ agents: string[]; groups: string[] }> {
    const [v] = await this.views(await this.store.db.select().from(agentCampaigns).where(eq(agentCampaigns.id, id)));
    return { agents: v?.agents ?? [], groups: v?.groups ?? [] };
  }

  /** User and group ids for extensions of the domain; a name that is not there is a 422. */
  private async resolveMembers(
    domainId: string,
    agents: readonly string[],
    groups: readonly string[],
  ): Promise<{ userIds: string[]; groupIds: string[] }> {
    const fields: Record<string, string> = {};
    const uniqueAgents = [...new Set(agents)];
    const uniqueGroups = [...new Set(groups)];
    const [us, gs] = await Promise.all([
      uniqueAgents.length
        ? this.store.db
            .select({ id: users.id, ext: users.ext })
            .from(users)
            .where(and(eq(users.domainId, domainId), inArray(users.ext, uniqueAgents)))
        : [],
      uniqueGroups.length
        ? this.store.db
            .select({ id: userGroups.id, ext: userGroups.ext })
            .from(userGroups)
            .where(and(eq(userGroups.domainId, domainId), inArray(userGroups.ext, uniqueGroups)))
        : [],
    ]);
    const missingAgents = uniqueAgents.filter((e) => !us.some((u) => u.ext === e));
    const missingGroups = uniqueGroups.filter((e) => !gs.some((g) => g.ext === e));
    if (missingAgents.length) fields.agents = `no user ${missingAgents.join(', ')} in this domain`;
    if (missingGroups.length) fields.groups = `no group ${missingGroups.join(', ')} in this domain`;
    if (Object.keys(fields).length) throw DirectoryError.validation(fields);
    return { userIds: us.map((u) => u.id), groupIds: gs.map((g) => g.id) };
  }

  private async setMembers(
    tx: Parameters<Parameters<Store['db']['transaction']>[0]>[0],
    campaignId: string,
    m: { userIds: string[]; groupIds: string[] },
  ): Promise<void> {
    const rows = [
      ...m.userIds.map((userId) => ({ campaignId, userId })),
      ...m.groupIds.map((groupId) => ({ campaignId, groupId })),
    ];
    if (rows.length) await tx.insert(agentCampaignMembers).values(rows);
  }

  /** Runs a write; a duplicate campaign name is a 409. */
  private async write<T>(fn: (tx: Parameters<Parameters<Store['db']['transaction']>[0]>[0]) => Promise<T>): Promise<T> {
    try {
      return await this.store.db.transaction(fn);
    } catch (err) {
      if (uniqueViolation(err) === 'agent_campaigns_domain_name_key')
        throw new DirectoryError('CONFLICT', 'a campaign of that name exists in this domain');
      throw err;
    }
  }
}

/** A lead row as the API shows it. */
export function leadView(l: LeadRow, agentExt: string | null): LeadRecord {
  return {
    id: l.id,
    campaignId: l.campaignId,
    position: Number(l.position),
    name: l.name,
    phone: l.phone,
    alt_phone: l.altPhone,
    phone_code: l.phoneCode,
    fields: l.fields,
    status: l.status,
    agent: agentExt,
    assignedAt: l.assignedAt?.toISOString() ?? null,
    attempts: l.attempts,
    decision: l.decision,
    decidedAt: l.decidedAt?.toISOString() ?? null,
  };
}

/** A uuid (ids from the URL are checked before they reach a uuid column, which would answer 500). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
