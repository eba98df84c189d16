/**
 * Drizzle tables of softphone provisioning (migration 4): the devices apps were activated as, and
 * their lines. The DDL is in ../store/migrations.ts; migrations.test.ts checks the two agree.
 */
import { boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { domains, users } from '../store/schema.js';

/** Device templates, from the app that activated (see device-template.ts); `desk` is a desk phone by MAC. */
export type DeviceTemplate = 'sessiontalk/android' | 'sessiontalk/ios' | 'sessiontalk/windows' | 'web' | 'desk';

/** Desk-phone vendor families (see desk/desk-vendors.ts). */
export type DeskVendor = 'yealink' | 'polycom' | 'grandstream' | 'snom' | 'fanvil' | 'cisco';

/** What a programmable key does. */
export type DeskKeyType = 'blf' | 'speed_dial' | 'line' | 'park' | 'voicemail';

/** One programmable key of a desk phone (index 1 = the first key). */
export interface DeskKey {
  index: number;
  type: DeskKeyType;
  /** Extension watched (blf), number dialled (speed_dial, park, voicemail); empty for line keys. */
  value: string;
  label?: string | undefined;
  /** The phone line (account) the key belongs to; default 1. */
  line?: number | undefined;
}

/** A device's own overrides of the domain's desk-phone profile (same keys, camelCase). */
export interface DeskOverrides {
  timezone?: string | undefined;
  ntpServer?: string | undefined;
  language?: string | undefined;
  codecs?: string[] | undefined;
  dialPlan?: string | undefined;
  ringtone?: string | undefined;
}

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
    appDeviceId: text('app_device_id'),
    /** The extension whose code activated it: the app sends it back as username. Null for desk phones. */
    ext: text('ext'),
    label: text('label'),
    enabled: boolean('enabled').notNull().default(true),
    /** MD5 of the accounts JSON last sent; null makes the next update recreate the accounts. */
    jsonMd5: text('json_md5'),
    /** Id of the activation code it was activated with. */
    codeId: uuid('code_id'),
    /** Keyed hash of that code's token (the token itself is not kept). */
    codeHash: text('code_hash'),
    codeExpiresAt: timestamp('code_expires_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    lastProvisionedAt: timestamp('last_provisioned_at', { withTimezone: true }),
    lastProvisionedIp: text('last_provisioned_ip'),
    /** Desk phones (migration 30): the MAC as 12 lower-case hex digits, unique server-wide. */
    mac: text('mac'),
    vendor: text('vendor').$type<DeskVendor>(),
    model: text('model'),
    /** Firmware and User-Agent as the phone last sent them. */
    firmware: text('firmware'),
    userAgent: text('user_agent'),
    /** The device's own secret: `/prov/<secret>/<file>` needs no HTTP credentials. */
    secret: text('secret'),
    /** `pending`: inserted by an unknown phone's request, waiting for an admin to assign lines. */
    status: text('status').$type<'active' | 'pending'>().notNull().default('active'),
    keys: jsonb('keys').$type<DeskKey[]>().notNull().default([]),
    overrides: jsonb('overrides').$type<DeskOverrides>().notNull().default({}),
  },
  (t) => [
    uniqueIndex('provisioning_devices_app_key').on(t.domainId, t.appDeviceId),
    uniqueIndex('provisioning_devices_code_hash_key').on(t.codeHash),
    uniqueIndex('provisioning_devices_mac_key').on(t.mac),
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
