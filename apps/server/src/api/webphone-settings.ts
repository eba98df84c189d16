import { z } from 'zod';
import type { SettingDefinition, SettingsRegistry } from '../directory/settings-registry.js';

/** Footer/side-menu pages the web phone knows; `custom` and `iframe` carry their own content. */
export const WEBPHONE_PAGES = ['agent', 'history', 'dialpad', 'contacts', 'settings', 'custom', 'iframe'] as const;

const menuItem = z.strictObject({
  page: z.enum(WEBPHONE_PAGES),
  title: z.string().trim().min(1).max(40).optional(),
  /** A single emoji or short glyph shown above the title. */
  icon: z.string().max(8).optional(),
  position: z.number().int().min(0).max(99).optional(),
  disabled: z.boolean().optional(),
  /** iframe pages: an http(s) URL filling the page. */
  url: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .optional(),
  /** custom pages: a text template; `{{name}}`, `{{ext}}`, `{{domain}}` are replaced (shown as text, never HTML). */
  template: z.string().max(4000).optional(),
});

/** One menu entry of `webphone.menu_items`. */
export type WebphoneMenuItem = z.infer<typeof menuItem>;

/** A codec name (`PCMU`) or a /regex/ over the rtpmap encoding names. */
const codecPattern = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .refine((s) => !s.startsWith('/') || toRegex(s) !== undefined, 'not a valid /regex/');

/** `/.../flags` to a RegExp; anything else matches its name case-insensitively. */
function toRegex(p: string): RegExp | undefined {
  const m = /^\/(.+)\/([i]*)$/.exec(p);
  if (!m) return undefined;
  try {
    return new RegExp(m[1]!, m[2] || 'i');
  } catch {
    return undefined;
  }
}

/** True when codec-delete pattern `p` matches encoding name `name`. */
export function codecMatches(p: string, name: string): boolean {
  const re = p.startsWith('/') ? toRegex(p) : undefined;
  return re ? re.test(name) : p.toLowerCase() === name.toLowerCase();
}

const flag = (description: string): SettingDefinition<boolean> => ({
  schema: z.boolean(),
  default: false,
  description,
  scope: 'domain',
});

const nameList = (description: string): SettingDefinition<string[]> => ({
  schema: z.array(z.string().trim().min(1).max(254)).max(1000),
  default: [],
  description,
  scope: 'domain',
});

/**
 * The `webphone.*` settings, per domain: what the web phone applies at sign-in (brand, menu,
 * flags, custom CSS, codec policy) and who may sign in to it.
 */
export const WEBPHONE_SETTINGS = {
  'webphone.brand_name': {
    schema: z.string().trim().min(1).max(60),
    default: 'Handset',
    description: 'Name shown in the title bar and the installed app',
    scope: 'domain',
  } satisfies SettingDefinition<string>,
  'webphone.ws_url': {
    schema: z.union([z.literal(''), z.url({ protocol: /^wss?$/ }).max(500)]),
    default: '',
    description: 'SIP over WebSocket URL for the web phone (empty: this server, /sip on the page host)',
    scope: 'domain',
  } satisfies SettingDefinition<string>,
  'webphone.menu_items': {
    schema: z.array(menuItem).max(12),
    default: [] as WebphoneMenuItem[],
    description:
      'Menu entries (page, title, icon, position, disabled, iframe url, custom template); empty: the standard footer',
    scope: 'domain',
  } satisfies SettingDefinition<WebphoneMenuItem[]>,
  'webphone.hide_uuid': flag('Hide the build UUID in the side menu'),
  'webphone.menu_right': flag('Side menu opens on the right'),
  'webphone.display_balance': flag('Show the account balance (when one is provided)'),
  'webphone.edit_settings': flag('Users may edit their web phone settings (display name, WS URL)'),
  'webphone.register': flag('Offer self sign-up on the sign-in screen'),
  'webphone.register_ext_range': {
    schema: z.union([
      z.literal(''),
      z
        .string()
        .regex(/^\d{1,9}-\d{1,9}$/, 'a range of extensions: "2000-2999"')
        .refine((r) => {
          const [lo, hi] = r.split('-').map(Number) as [number, number];
          return lo <= hi;
        }, 'the first extension must not be above the last'),
    ]),
    default: '',
    description:
      'Extensions self sign-up hands out, lowest free first ("2000-2999"); empty: the next above the highest in the domain',
    scope: 'domain',
  } satisfies SettingDefinition<string>,
  'webphone.sip_login': flag('Agents may sign in to the web phone with extension@domain and their SIP password'),
  'webphone.username_as_title': flag("Show the user's name as the title instead of the brand"),
  'webphone.auto_answer': flag('Answer incoming calls automatically'),
  'webphone.agent': flag('Show the Agent page'),
  'webphone.allowed_users': nameList(
    'Only these users (extension or e-mail) may sign in to the web phone; empty: everyone',
  ),
  'webphone.allowed_groups': nameList(
    'Only members of these groups (extension or name) may sign in; empty: no group restriction',
  ),
  'webphone.custom_css': {
    // Injected as the text of a <style> element, so it cannot close the element and add markup.
    schema: z
      .string()
      .max(32 << 10)
      .refine((s) => !/<\/?\s*style/i.test(s), 'must not contain <style> or </style>'),
    default: '',
    description: 'CSS applied after the built-in styles',
    scope: 'domain',
  } satisfies SettingDefinition<string>,
  'webphone.codec_delete': {
    schema: z
      .array(codecPattern)
      .max(50)
      .refine((ps) => !ps.some((p) => codecMatches(p, 'opus')), 'Opus cannot be deleted'),
    default: [] as string[],
    description: 'Codecs removed from the SDP, by name or /regex/ (Opus cannot be deleted)',
    scope: 'domain',
  } satisfies SettingDefinition<string[]>,
  'webphone.codec_priority': {
    schema: z
      .array(
        z
          .string()
          .trim()
          .min(1)
          .max(40)
          .regex(/^[A-Za-z0-9.\-_]+$/),
      )
      .max(50),
    default: [] as string[],
    description: 'Codec names in the order offered first (the rest keep their order)',
    scope: 'domain',
  } satisfies SettingDefinition<string[]>,
} as const;

/** A `webphone.*` key. */
export type WebphoneSettingKey = keyof typeof WEBPHONE_SETTINGS;

/** Declares every `webphone.*` key in the settings registry. */
export function defineWebphoneSettings(registry: SettingsRegistry): void {
  for (const [key, def] of Object.entries(WEBPHONE_SETTINGS)) registry.define<unknown>(key, def);
}
