/**
 * Drizzle table of the web phone's per-user state (migration 6): the agent status the proxy reads
 * for ring groups, and a balance provided by billing. The DDL is in ../store/migrations.ts;
 * migrations.test.ts checks the two agree.
 */
import { doublePrecision, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { domains, users } from '../store/schema.js';

/** Agent statuses: only `available` is rung by ring groups. */
export const AGENT_STATES = ['available', 'away', 'wrap_up', 'dnd'] as const;
/** One agent status. */
export type AgentState = (typeof AGENT_STATES)[number];

/** One row per user that has ever changed its status or been given a balance. */
export const webphoneUserState = pgTable(
  'webphone_user_state',
  {
    userId: uuid('user_id')
      .primaryKey()
      .references(() => users.id, { onDelete: 'cascade' }),
    domainId: uuid('domain_id')
      .notNull()
      .references(() => domains.id, { onDelete: 'cascade' }),
    agentState: text('agent_state').$type<AgentState>().notNull().default('available'),
    /** Provided by billing through the API; null: no balance to show. */
    balance: doublePrecision('balance'),
    currency: text('currency'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('webphone_user_state_domain_idx').on(t.domainId)],
);
