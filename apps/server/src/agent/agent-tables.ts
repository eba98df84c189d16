/**
 * Drizzle tables of the agent tools (migration 80): campaigns with their agents and leads (the
 * preview dialer), the calls placed to a lead (linked to CDRs by Call-ID), buttons, forms and
 * their submissions, and versioned scripts. The DDL is in ../store/migrations.ts;
 * migrations.test.ts checks the two agree.
 */
import type { FormField } from '@handset/agent-actions';
import {
  bigint,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { userGroups } from '../directory/directory-tables.js';
import { domains, users } from '../store/schema.js';

/** Campaign states: only `active` campaigns hand out leads. */
export const CAMPAIGN_STATUSES = ['active', 'paused', 'archived'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** Lead states: waiting in the queue, held by an agent, decided. */
export const LEAD_STATUSES = ['queued', 'assigned', 'done'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];

const created = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updated = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();
const domainRef = () =>
  uuid('domain_id')
    .notNull()
    .references(() => domains.id, { onDelete: 'cascade' });

/** A campaign of a domain. */
export const agentCampaigns = pgTable(
  'agent_campaigns',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    domainId: domainRef(),
    name: text('name').notNull(),
    status: text('status').$type<CampaignStatus>().notNull().default('active'),
    /** The number presented to leads (the web phone sets it as the From display of its calls). */
    callerId: text('caller_id'),
    /** A held lead with no decision goes back to the queue after this. */
    leadTimeoutS: integer('lead_timeout_s').notNull().default(300),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [uniqueIndex('agent_campaigns_domain_name_key').on(t.domainId, t.name)],
);

/** Who works a campaign: a user, or every member of a group. */
export const agentCampaignMembers = pgTable('agent_campaign_members', {
  campaignId: uuid('campaign_id')
    .notNull()
    .references(() => agentCampaigns.id, { onDelete: 'cascade' }),
  userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
  groupId: uuid('group_id').references(() => userGroups.id, { onDelete: 'cascade' }),
});

/** A lead: someone to call, in import order. */
export const agentLeads = pgTable(
  'agent_leads',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    campaignId: uuid('campaign_id')
      .notNull()
      .references(() => agentCampaigns.id, { onDelete: 'cascade' }),
    domainId: domainRef(),
    position: bigint('position', { mode: 'number' }).notNull(),
    name: text('name'),
    phone: text('phone').notNull(),
    altPhone: text('alt_phone'),
    phoneCode: text('phone_code'),
    fields: jsonb('fields').$type<Record<string, unknown>>().notNull().default({}),
    status: text('status').$type<LeadStatus>().notNull().default('queued'),
    queuedAt: timestamp('queued_at', { withTimezone: true }).notNull().defaultNow(),
    /** The agent holding it (status assigned), or the last one that did. */
    assignedTo: uuid('assigned_to').references(() => users.id, { onDelete: 'set null' }),
    assignedAt: timestamp('assigned_at', { withTimezone: true }),
    attempts: integer('attempts').notNull().default(0),
    decision: text('decision').$type<'Yes' | 'No' | 'Unknown'>(),
    decidedBy: uuid('decided_by').references(() => users.id, { onDelete: 'set null' }),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    createdAt: created(),
  },
  (t) => [index('agent_leads_queue_idx').on(t.campaignId, t.status, t.queuedAt, t.position)],
);

/** A call an agent placed to a lead; its outcome is the CDR with the same Call-ID. */
export const agentLeadCalls = pgTable(
  'agent_lead_calls',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    leadId: uuid('lead_id')
      .notNull()
      .references(() => agentLeads.id, { onDelete: 'cascade' }),
    domainId: domainRef(),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
    callId: text('call_id').notNull(),
    target: text('target').$type<'phone' | 'alt_phone' | 'phone_code'>().notNull(),
    number: text('number').notNull(),
    createdAt: created(),
  },
  (t) => [index('agent_lead_calls_lead_idx').on(t.leadId, t.createdAt)],
);

/** A server-side script (ScriptForge); its source lives in versions, `version` is the current one. */
export const agentScripts = pgTable('agent_scripts', {
  id: uuid('id').primaryKey().defaultRandom(),
  domainId: domainRef(),
  name: text('name').notNull(),
  version: integer('version').notNull().default(1),
  createdAt: created(),
  updatedAt: updated(),
});

/** Every saved source of a script. */
export const agentScriptVersions = pgTable(
  'agent_script_versions',
  {
    scriptId: uuid('script_id')
      .notNull()
      .references(() => agentScripts.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    source: text('source').notNull(),
    createdBy: uuid('created_by'),
    createdAt: created(),
  },
  (t) => [primaryKey({ name: 'agent_script_versions_pkey', columns: [t.scriptId, t.version] })],
);

/** A form an agent fills; `sandboxId` is the script a submission runs. */
export const agentForms = pgTable('agent_forms', {
  id: uuid('id').primaryKey().defaultRandom(),
  domainId: domainRef(),
  name: text('name').notNull(),
  fields: jsonb('fields').$type<FormField[]>().notNull().default([]),
  sandboxId: uuid('sandbox_id').references(() => agentScripts.id, { onDelete: 'set null' }),
  createdAt: created(),
  updatedAt: updated(),
});

/** A button on the agent page (the seed's Button Builder fields). */
export const agentButtons = pgTable(
  'agent_buttons',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    domainId: domainRef(),
    label: text('label').notNull(),
    icon: text('icon'),
    tooltip: text('tooltip'),
    type: text('type').notNull().default('primary'),
    placement: text('placement').notNull().default('agent'),
    minSelect: integer('min_select').notNull().default(0),
    maxSelect: integer('max_select').notNull().default(0),
    sandboxId: uuid('sandbox_id').references(() => agentScripts.id, { onDelete: 'set null' }),
    fn: text('fn'),
    formId: uuid('form_id').references(() => agentForms.id, { onDelete: 'set null' }),
    sortOrder: integer('sort_order').notNull().default(0),
    createdAt: created(),
    updatedAt: updated(),
  },
  (t) => [index('agent_buttons_domain_idx').on(t.domainId, t.placement, t.sortOrder)],
);

/** A submitted form, as the server checked it. */
export const agentFormSubmissions = pgTable('agent_form_submissions', {
  id: uuid('id').primaryKey().defaultRandom(),
  formId: uuid('form_id')
    .notNull()
    .references(() => agentForms.id, { onDelete: 'cascade' }),
  domainId: domainRef(),
  userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
  leadId: uuid('lead_id').references(() => agentLeads.id, { onDelete: 'set null' }),
  data: jsonb('data').$type<Record<string, unknown>>().notNull(),
  createdAt: created(),
});
