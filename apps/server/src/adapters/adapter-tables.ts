/**
 * Drizzle tables of the device adapters (migration 50): the adapters that registered as
 * provisioning providers, and the phones they provision, keyed by MAC (one domain per MAC).
 * The DDL is in ../store/migrations.ts; migrations.test.ts checks the two agree.
 */
import { index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { domains } from '../store/schema.js';

/** A provisioning provider: one per (domain, title); a superadmin's adapter has no domain and serves all. */
export const deviceAdapters = pgTable('device_adapters', {
  id: uuid('id').primaryKey().defaultRandom(),
  domainId: uuid('domain_id').references(() => domains.id, { onDelete: 'cascade' }),
  title: text('title').notNull(),
  /** The API token that registered it last. */
  tokenId: uuid('token_id'),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  lastSeenAt: timestamp('last_seen_at', { withTimezone: true }),
});

/** Where a phone is in its provisioning. */
export const ADAPTER_PHONE_STATES = ['queued', 'sent', 'ok', 'error'] as const;
/** One phone state. */
export type AdapterPhoneState = (typeof ADAPTER_PHONE_STATES)[number];

/** One line of a phone as stored: the user is kept by id, so an extension rename follows. */
export interface StoredLine {
  line: number;
  userId: string;
  ext: string;
}

/** A phone provisioned through an adapter, with its job state. */
export const adapterPhones = pgTable(
  'adapter_phones',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    domainId: uuid('domain_id')
      .notNull()
      .references(() => domains.id, { onDelete: 'cascade' }),
    mac: text('mac').notNull(),
    adapterId: uuid('adapter_id')
      .notNull()
      .references(() => deviceAdapters.id, { onDelete: 'cascade' }),
    lines: jsonb('lines').$type<StoredLine[]>().notNull(),
    state: text('state').$type<AdapterPhoneState>().notNull().default('queued'),
    queuedAt: timestamp('queued_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    /** SHA-256 of the single-use code of the last ProvisioningPhone; null once used. */
    codeHash: text('code_hash'),
    codeExpiresAt: timestamp('code_expires_at', { withTimezone: true }),
    /** The device password (SetManagerPassword), sealed with the server key. */
    passwordEnc: text('password_enc'),
    identifiedAt: timestamp('identified_at', { withTimezone: true }),
    product: text('product'),
    version: text('version'),
    resultAt: timestamp('result_at', { withTimezone: true }),
    lastError: text('last_error'),
    /** The last configuration sent, without secrets. */
    lastConfig: jsonb('last_config').$type<Record<string, unknown>>(),
    configSentAt: timestamp('config_sent_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('adapter_phones_mac_key').on(t.mac),
    index('adapter_phones_queue_idx').on(t.adapterId, t.state, t.queuedAt),
    index('adapter_phones_domain_idx').on(t.domainId),
  ],
);
