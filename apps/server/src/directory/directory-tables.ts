/**
 * Drizzle tables of the directory model added by migration 2 (groups, superadmins, contacts,
 * API tokens, login sessions, audit log). The DDL is in ../store/migrations.ts; the users
 * table's new columns are declared with the rest of `users` in ../store/schema.ts.
 */
import { boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { domains, users } from '../store/schema.js';

/** A labelled phone number of a contact. */
export interface ContactNumber {
  label: string;
  number: string;
}

/** Ring groups: an extension in the domain's number space that rings its member users. */
export const userGroups = pgTable(
  'user_groups',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    domainId: uuid('domain_id')
      .notNull()
      .references(() => domains.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    ext: text('ext').notNull(),
    description: text('description'),
    active: boolean('active').notNull().default(true),
    strategy: text('strategy').$type<'simultaneous' | 'sequential'>().notNull().default('simultaneous'),
    ringTimeoutS: integer('ring_timeout_s').notNull().default(20),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('user_groups_domain_ext_key').on(t.domainId, t.ext)],
);

/** System operators with no domain, created with `handset superadmin create`. */
export const superadmins = pgTable('superadmins', {
  id: uuid('id').primaryKey().defaultRandom(),
  email: text('email').notNull().unique('superadmins_email_key'),
  name: text('name'),
  loginPasswordHash: text('login_password_hash').notNull(),
  active: boolean('active').notNull().default(true),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Phonebook entries: the domain's (owner_user_id null) and users' private ones. */
export const contacts = pgTable(
  'contacts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    domainId: uuid('domain_id')
      .notNull()
      .references(() => domains.id, { onDelete: 'cascade' }),
    ownerUserId: uuid('owner_user_id').references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    company: text('company'),
    ext: text('ext'),
    numbers: jsonb('numbers').$type<ContactNumber[]>().notNull().default([]),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('contacts_domain_idx').on(t.domainId, t.ownerUserId)],
);

/** API tokens: only the SHA-256 of the secret is kept; exactly one of user / superadmin owns it. */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
    superadminId: uuid('superadmin_id').references(() => superadmins.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull().unique('api_tokens_token_hash_key'),
    /** The first characters of the token, so an operator can tell tokens apart. */
    prefix: text('prefix').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('api_tokens_user_idx').on(t.userId)],
);

/** Login sessions from POST /api/v1/auth/login (hashed like API tokens, expiring). */
export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
    superadminId: uuid('superadmin_id').references(() => superadmins.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique('sessions_token_hash_key'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('sessions_expires_at_idx').on(t.expiresAt)],
);

/** Every change made through the API or CLI. No foreign keys: entries outlive what they name. */
export const auditLog = pgTable(
  'audit_log',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    actorId: uuid('actor_id'),
    actorEmail: text('actor_email'),
    actorRole: text('actor_role').notNull(),
    via: text('via').notNull(),
    domainId: uuid('domain_id'),
    action: text('action').notNull(),
    resource: text('resource').notNull(),
    resourceId: text('resource_id'),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
  },
  (t) => [index('audit_log_domain_at_idx').on(t.domainId, t.at), index('audit_log_at_idx').on(t.at)],
);
