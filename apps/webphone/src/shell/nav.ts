import type { Translate } from '@handset/ui';
import type { MenuItem, WebphoneConfig } from '../api/webphone-api.js';
import { PAGE_ICONS } from '../icons.js';
import type { MessageKey } from '../messages.js';
import type { Page } from '../state/ui-state.js';

/** One footer entry. */
export interface NavEntry {
  page: Page;
  title: string;
  icon: string;
  glyph?: string | undefined;
  item?: MenuItem;
}

const DEFAULT_PAGES: Page[] = ['history', 'dialpad', 'contacts', 'settings'];

/**
 * The footer from `webphone.menu_items` (position, title, icon, disabled) or the standard four;
 * Agent first where `webphone.agent` is on, and never without it.
 */
export function navEntries(config: WebphoneConfig['config'], t: Translate<MessageKey>): NavEntry[] {
  const items: MenuItem[] = config.menuItems.length ? config.menuItems : DEFAULT_PAGES.map((page) => ({ page }));
  const entries: NavEntry[] = items
    .filter((i) => !i.disabled)
    .map((i, idx) => ({ i, idx }))
    .sort((a, b) => (a.i.position ?? a.idx) - (b.i.position ?? b.idx))
    .map(({ i }) => ({
      page: i.page,
      title: i.title ?? t(i.page === 'custom' || i.page === 'iframe' ? 'menu' : i.page),
      icon: PAGE_ICONS[i.page],
      glyph: i.icon,
      item: i,
    }));
  if (!config.flags.agent) return entries.filter((e) => e.page !== 'agent');
  return entries.some((e) => e.page === 'agent')
    ? entries
    : [{ page: 'agent', title: t('agent'), icon: PAGE_ICONS.agent }, ...entries];
}

/** The page shown after sign-in: the dialpad when the footer has one, else the first entry. */
export function firstPage(entries: NavEntry[]): Page {
  return entries.some((n) => n.page === 'dialpad') ? 'dialpad' : (entries[0]?.page ?? 'dialpad');
}
