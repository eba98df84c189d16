/**
 * Drizzle tables of webhooks (migration 3): per-domain endpoints and their delivery log, which is
 * also the delivery queue (pending rows survive a restart). The DDL is in ../store/migrations.ts.
 */
import { boolean, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { domains } from '../store/schema.js';

/** Delivery states: pending (queued or waiting to retry) -> delivered | failed (gave up). */
export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/** A domain's webhook endpoint. The signing secret is sealed with the server key. */
export const webhooks = pgTable(
  'webhooks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    domainId: uuid('domain_id')
      .notNull()
      .references(() => domains.id, { onDelete: 'cascade' }),
    /** The domain's SIP name, kept beside the id because call and registration events carry the name. */
    domain: text('domain').notNull(),
    url: text('url').notNull(),
    /** Event filters: `*`, `call.*` or exact types. */
    events: jsonb('events').$type<string[]>().notNull().default(['*']),
    secretEnc: text('secret_enc').notNull(),
    description: text('description'),
    active: boolean('active').notNull().default(true),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('webhooks_domain_idx').on(t.domainId)],
);

/** One event for one webhook: the exact body signed and sent, and how its attempts went. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    webhookId: uuid('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    eventType: text('event_type').notNull(),
    body: text('body').notNull(),
    status: text('status').$type<WebhookDeliveryStatus>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** When a pending delivery is next tried (also a lease while an attempt is in flight). */
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
    lastError: text('last_error'),
    responseCode: integer('response_code'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (t) => [
    index('webhook_deliveries_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`status = 'pending'`),
    index('webhook_deliveries_webhook_idx').on(t.webhookId, t.createdAt),
  ],
);
