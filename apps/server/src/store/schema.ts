import { sql } from 'drizzle-orm';
import { userGroups } from '../directory/directory-tables.js';
import {
  type AnyPgColumn,
  boolean,
  doublePrecision,
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

export * from '../directory/directory-tables.js';
export * from '../provisioning/provisioning-tables.js';
export * from '../notify/webhook-tables.js';
export * from '../webphone/webphone-tables.js';
export * from '../agent/agent-tables.js';
export * from '../adapters/adapter-tables.js';

// Drizzle table definitions for the query builder. The DDL itself lives in migrations.ts
// (hand-written, numbered); migrations.test.ts checks that the two agree column by column.

/** Small server-wide facts, e.g. the fingerprint of the key that sealed the stored secrets. */
export const serverMeta = pgTable('server_meta', {
  name: text('name').primaryKey(),
  value: text('value').notNull(),
});

/** Tenants: one SIP domain each. `domain` is stored lowercased. */
export const domains = pgTable('domains', {
  id: uuid('id').primaryKey().defaultRandom(),
  domain: text('domain').notNull().unique(),
  name: text('name'),
  active: boolean('active').notNull().default(true),
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Users (extensions) of a domain; the SIP password is sealed with the server key. */
export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    domainId: uuid('domain_id')
      .notNull()
      .references(() => domains.id, { onDelete: 'cascade' }),
    ext: text('ext').notNull(),
    sipPasswordEnc: text('sip_password_enc').notNull(),
    name: text('name'),
    email: text('email'),
    active: boolean('active').notNull().default(true),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    // Migration 2 (directory model, see ../directory/directory-tables.ts).
    phone: text('phone'),
    description: text('description'),
    role: text('role').$type<'owner' | 'admin' | 'agent'>().notNull().default('agent'),
    loginPasswordHash: text('login_password_hash'),
    groupId: uuid('group_id').references((): AnyPgColumn => userGroups.id, { onDelete: 'set null' }),
    groupPosition: integer('group_position').notNull().default(0),
  },
  (t) => [
    uniqueIndex('users_domain_ext_key').on(t.domainId, t.ext),
    index('users_group_idx').on(t.groupId),
    uniqueIndex('users_email_key')
      .on(t.email)
      .where(sql`email is not null`),
  ],
);

/** Registrar bindings (location service), persisted so they survive a restart. */
export const bindings = pgTable(
  'bindings',
  {
    aor: text('aor').notNull(),
    /** The +sip.instance when the contact has one (RFC 5626), else the contact URI. */
    contactKey: text('contact_key').notNull(),
    domain: text('domain').notNull(),
    instanceId: text('instance_id'),
    regId: integer('reg_id'),
    contactUri: text('contact_uri').notNull(),
    path: jsonb('path').$type<string[]>().notNull().default([]),
    callId: text('call_id').notNull(),
    cseq: integer('cseq').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    flowId: text('flow_id'),
    transport: text('transport').notNull(),
    sourceAddress: text('source_address').notNull(),
    sourcePort: integer('source_port').notNull(),
    userAgent: text('user_agent'),
    q: doublePrecision('q'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ name: 'bindings_pkey', columns: [t.aor, t.contactKey] }),
    index('bindings_expires_at_idx').on(t.expiresAt),
  ],
);

/** Call detail records, one per call attempt. */
export const cdrs = pgTable(
  'cdrs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    domain: text('domain').notNull(),
    callId: text('call_id').notNull(),
    caller: text('caller').notNull(),
    callee: text('callee').notNull(),
    callerDevice: text('caller_device'),
    calleeDevice: text('callee_device'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    answeredAt: timestamp('answered_at', { withTimezone: true }),
    endedAt: timestamp('ended_at', { withTimezone: true }).notNull(),
    durationS: doublePrecision('duration_s').notNull(),
    billableS: doublePrecision('billable_s').notNull(),
    disposition: text('disposition').notNull(),
    sipStatus: integer('sip_status').notNull(),
    sipReason: text('sip_reason'),
    hangupBy: text('hangup_by'),
    /** Cluster: the node that handled the call (HANDSET_NODE_ID); null on a single node. */
    node: text('node'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('cdrs_domain_started_idx').on(t.domain, t.startedAt.desc(), t.id.desc()),
    index('cdrs_started_at_idx').on(t.startedAt),
    index('cdrs_call_id_idx').on(t.callId),
  ],
);
