/**
 * Drizzle tables of softphone provisioning (migration 4): the devices apps were activated as, and
 * their lines. The DDL is in ../store/migrations.ts; migrations.test.ts checks the two agree.
 */
import { boolean, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { domains, users } from '../store/schema.js';

/** Device templates, from the app that activated (see device-template.ts). */
export type DeviceTemplate = 'sessiontalk/android' | 'sessiontalk/ios' | 'sessiontalk/windows' | 'web';

/** An activated app installation. */
export const provisioningDevices = pgTable(
  'provisioning_devices',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    domainId: uuid('domain_id')
      .notNull()
      .references(() => domains.id, { onDelete: 'cascade' }),
    template: text('template').$type<DeviceTemplate>().notNull(),
    /** The app's own unique id (SessionTalk's deviceId). */
    appDeviceId: text('app_device_id').notNull(),
    /** The extension whose code activated it: the app sends it back as username. */
    ext: text('ext').notNull(),
    label: text('label'),
    enabled: boolean('enabled').notNull().default(true),
    /** MD5 of the accounts JSON last sent; null makes the next update recreate the accounts. */
    jsonMd5: text('json_md5'),
    /** Id of the activation code it was activated with. */
    codeId: uuid('code_id').notNull(),
    /** Keyed hash of that code's token (the token itself is not kept). */
    codeHash: text('code_hash').notNull(),
    codeExpiresAt: timestamp('code_expires_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    lastProvisionedAt: timestamp('last_provisioned_at', { withTimezone: true }),
    lastProvisionedIp: text('last_provisioned_ip'),
  },
  (t) => [
    uniqueIndex('provisioning_devices_app_key').on(t.domainId, t.appDeviceId),
    uniqueIndex('provisioning_devices_code_hash_key').on(t.codeHash),
  ],
);

/** The SIP accounts an activated app carries; the first is the activating extension. */
export const provisioningDeviceLines = pgTable(
  'provisioning_device_lines',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    deviceId: uuid('device_id')
      .notNull()
      .references(() => provisioningDevices.id, { onDelete: 'cascade' }),
    domainId: uuid('domain_id')
      .notNull()
      .references(() => domains.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    ext: text('ext').notNull(),
    position: integer('position').notNull(),
    transport: text('transport').$type<'udp' | 'tcp' | 'tls'>().notNull(),
    enabled: boolean('enabled').notNull().default(true),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('provisioning_device_lines_user_key').on(t.deviceId, t.userId),
    index('provisioning_device_lines_user_idx').on(t.userId),
  ],
);
