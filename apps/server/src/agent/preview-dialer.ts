import { leadDialString, type CallTarget, type Decision } from '@handset/agent-actions';
import { and, eq, sql } from 'drizzle-orm';
import type { AuditLog } from '../directory/audit-log.js';
import { DirectoryError } from '../directory/directory-error.js';
import { uniqueViolation } from '../directory/directory-service.js';
import type { Principal } from '../directory/principal.js';
import type { Store } from '../store/store.js';
import type { AgentState } from '../webphone/webphone-tables.js';
import { agentAccess as access, type DomainUser } from './agent-access.js';
import { agentCampaigns, agentLeadCalls, agentLeads } from './agent-tables.js';
import { UUID, type CampaignService, type LeadRecord } from './campaign-service.js';

/** What the Agent page shows: the lead held, and the campaign it belongs to. */
export interface AgentLead {
  lead: LeadRecord;
  campaign: { id: string; name: string; callerId: string | null; leadTimeoutS: number };
  /** When the lead goes back to the queue unless a decision is saved (or a call refreshes it). */
  expiresAt: string;
}

/** Where the dialer reads an agent's status (the web phone's, `GET/PUT /api/v1/webphone/agent`). */
export interface AgentStatusSource {
  agentState(p: DomainUser): Promise<AgentState>;
}

/** Attempts of a `next` that collides with a concurrent `next` of the same agent. */
const NEXT_ATTEMPTS = 3;

/** First key of the advisory lock serialising one agent's `next` (the second is the user id's hash). */
const NEXT_LOCK_SPACE = 0x4e58; // "NX"

/**
 * The preview dialer: hands an Available agent one lead at a time from the campaigns it works,
 * records the calls it places to the lead and the decision it saves.
 *
 * One lead goes to one agent: the claim is a single `UPDATE ... WHERE id = (SELECT ... FOR UPDATE
 * SKIP LOCKED)` (concurrent claims skip a row another transaction holds, and a row changed under
 * the snapshot is re-checked), and a partial unique index allows one held lead per agent. A lead
 * held past its campaign's `lead_timeout_s` without a decision is claimable again: it has gone
 * back to the queue without a timer having to run.
 */
export class PreviewDialer {
  constructor(
    private readonly o: {
      store: Store;
      campaigns: CampaignService;
      status: AgentStatusSource;
      audit: AuditLog;
    },
  ) {}

  /** The lead the caller holds (undefined: none, or it timed out and went back to the queue). */
  async current(p: Principal): Promise<AgentLead | undefined> {
    const u = access.domainUser(p);
    const rows = idsOf(
      await this.o.store.db.execute(sql`
      select l.id from agent_leads l join agent_campaigns c on c.id = l.campaign_id
      where l.assigned_to = ${u.userId} and l.status = 'assigned'
        and l.assigned_at > now() - make_interval(secs => c.lead_timeout_s)`),
    );
    const id = rows[0];
    return id === undefined ? undefined : this.view(id);
  }

  /**
   * Gives the caller its next lead: the one it holds goes back to the queue (at its end) unless
   * decided, and the oldest queued or timed-out lead of its active campaigns (or of `campaignId`)
   * is claimed. Undefined when there is none. The caller must be Available.
   */
  async next(p: Principal, campaignId?: string): Promise<AgentLead | undefined> {
    const u = access.domainUser(p);
    if (campaignId !== undefined) await this.o.campaigns.get(p, campaignId);
    const state = await this.o.status.agentState(u);
    if (state !== 'available')
      throw new DirectoryError('CONFLICT', `your status is ${state}: set it to Available to get leads`);
    for (let attempt = 1; ; attempt++) {
      try {
        const id = await this.claim(u, campaignId);
        if (id === undefined) return undefined;
        return await this.view(id);
      } catch (err) {
        // Two `next` of the same agent at once: the other one won the agent's single slot.
        if (uniqueViolation(err) === 'agent_leads_held_key' && attempt < NEXT_ATTEMPTS) continue;
        throw err;
      }
    }
  }

  /** Saves the caller's decision on the lead it holds (`save(Yes|No|Unknown)`); the lead is done. */
  async decide(p: Principal, leadId: string, decision: Decision): Promise<LeadRecord> {
    const u = access.domainUser(p);
    if (!UUID.test(leadId)) throw DirectoryError.notFound('lead');
    const done = await this.o.store.db
      .update(agentLeads)
      .set({ status: 'done', decision, decidedBy: u.userId, decidedAt: sql`now()`, assignedAt: null })
      .where(and(eq(agentLeads.id, leadId), eq(agentLeads.assignedTo, u.userId), eq(agentLeads.status, 'assigned')))
      .returning({ id: agentLeads.id });
    if (done.length === 0) throw await this.notHeld(leadId, u);
    await this.o.audit.record(p, {
      action: 'decide',
      resource: 'lead',
      resourceId: leadId,
      domainId: u.domainId,
      detail: { decision },
    });
    const v = await this.o.campaigns.leadWithHistory(leadId);
    return v!;
  }

  /**
   * Records a call the caller places to the lead it holds (the SIP Call-ID links it to the CDR),
   * and refreshes the hold so the lead does not time out mid-call. Answers the number dialled.
   */
  async recordCall(p: Principal, leadId: string, callId: string, target: CallTarget): Promise<{ number: string }> {
    const u = access.domainUser(p);
    if (!UUID.test(leadId)) throw DirectoryError.notFound('lead');
    // Inside the transaction only `tx` is used: PGlite has one connection, a second query would wait for it.
    const result = await this.o.store.db.transaction(async (tx) => {
      const [lead] = await tx
        .update(agentLeads)
        .set({ assignedAt: sql`now()` })
        .where(and(eq(agentLeads.id, leadId), eq(agentLeads.assignedTo, u.userId), eq(agentLeads.status, 'assigned')))
        .returning();
      if (!lead) return undefined;
      const number = leadDialString(
        { phone: lead.phone, alt_phone: lead.altPhone, phone_code: lead.phoneCode },
        target,
      );
      if (number === undefined) throw DirectoryError.validation({ target: `this lead has no ${target}` });
      const inserted = await tx
        .insert(agentLeadCalls)
        .values({ leadId, domainId: u.domainId, userId: u.userId, callId, target, number })
        .onConflictDoNothing()
        .returning({ id: agentLeadCalls.id });
      if (inserted.length === 0) throw new DirectoryError('CONFLICT', 'that Call-ID is already recorded');
      return { number };
    });
    if (!result) throw await this.notHeld(leadId, u);
    return result;
  }

  /** Puts back what the agent holds and claims the next lead, in one transaction. */
  private async claim(u: DomainUser, campaignId: string | undefined): Promise<string | undefined> {
    const only = campaignId === undefined ? sql`` : sql` and l.campaign_id = ${campaignId}`;
    return this.o.store.db.transaction(async (tx) => {
      // One `next` of an agent at a time (a double click, two tabs): the later waits for the earlier.
      await tx.execute(sql`select pg_advisory_xact_lock(${NEXT_LOCK_SPACE}, hashtext(${u.userId}))`);
      // What the agent holds undecided goes to the back of the queue (a skip).
      await tx.execute(sql`
        update agent_leads set status = 'queued', assigned_at = null, queued_at = now()
        where assigned_to = ${u.userId} and status = 'assigned'`);
      const result = idsOf(
        await tx.execute(sql`
        update agent_leads set status = 'assigned', assigned_to = ${u.userId}, assigned_at = now(),
          attempts = attempts + 1
        where id = (
          select l.id from agent_leads l join agent_campaigns c on c.id = l.campaign_id
          where c.status = 'active' and c.domain_id = ${u.domainId}
            and c.id in (
              select m.campaign_id from agent_campaign_members m
              where m.user_id = ${u.userId}
                 or m.group_id = (select group_id from users where id = ${u.userId})
            )${only}
            and (l.status = 'queued'
              or (l.status = 'assigned' and l.assigned_at <= now() - make_interval(secs => c.lead_timeout_s)))
          order by l.queued_at, l.position
          limit 1
          for update of l skip locked
        )
        returning id`),
      );
      return result[0];
    });
  }

  private async view(leadId: string): Promise<AgentLead> {
    const lead = await this.o.campaigns.leadWithHistory(leadId);
    if (!lead) throw DirectoryError.notFound('lead');
    const [c] = await this.o.store.db.select().from(agentCampaigns).where(eq(agentCampaigns.id, lead.campaignId));
    const assigned = lead.assignedAt ? Date.parse(lead.assignedAt) : Date.now();
    return {
      lead,
      campaign: { id: c!.id, name: c!.name, callerId: c!.callerId, leadTimeoutS: c!.leadTimeoutS },
      expiresAt: new Date(assigned + c!.leadTimeoutS * 1000).toISOString(),
    };
  }

  /** Why a lead cannot be acted on: another tenant's or unknown (404), or not held by the caller (409). */
  private async notHeld(leadId: string, u: DomainUser): Promise<DirectoryError> {
    const [l] = await this.o.store.db
      .select({ domainId: agentLeads.domainId })
      .from(agentLeads)
      .where(eq(agentLeads.id, leadId));
    if (!l || l.domainId !== u.domainId) return DirectoryError.notFound('lead');
    return new DirectoryError(
      'CONFLICT',
      'you do not hold this lead (it was decided, or timed out and went back to the queue)',
    );
  }
}

/** The `id` column of a raw query's rows (both drivers answer `{rows}`). */
function idsOf(result: unknown): string[] {
  return (result as { rows: Array<{ id: string }> }).rows.map((r) => r.id);
}
