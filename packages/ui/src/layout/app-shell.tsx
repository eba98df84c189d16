import type { ReadonlySignal } from '@preact/signals';
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { useT } from '../i18n.js';
import { Icon } from './icon.js';

/** One footer (or side) navigation entry. */
export interface NavItem {
  key: string;
  title: string;
  /** An SVG path (see {@link Icon}), or a short glyph (an administrator's custom icon). */
  icon: string;
  glyph?: string | undefined;
  current: boolean;
  onSelect: () => void;
}

/** Inputs of {@link AppShell}. */
export interface AppShellProps {
  title: string;
  /** Right of the title (the phone's registration state). */
  status?: ComponentChildren;
  /** The side menu's content (who is signed in, language, sign out, build). */
  menu: ComponentChildren;
  menuRight?: boolean;
  /** Shown above the page (update prompt, offline, back to the call). */
  banners?: ComponentChildren;
  nav: NavItem[];
  /** False hides the navigation (the call screen takes the whole page). */
  showNav?: boolean;
  toast: ReadonlySignal<string>;
  children: ComponentChildren;
}

/**
 * The layout both apps share: a header with the menu button, title and status; a side menu; the
 * page; the navigation at the bottom (a phone's thumb reach) and one toast line.
 */
export function AppShell(p: AppShellProps) {
  const t = useT();
  const [menuOpen, setMenuOpen] = useState(false);
  return (
    <div class={`app${p.menuRight ? ' menu-right' : ''}`}>
      <header>
        <button class="icon" aria-label={t('menu')} aria-expanded={menuOpen} onClick={() => setMenuOpen(!menuOpen)}>
          ☰
        </button>
        <h1>{p.title}</h1>
        {p.status}
      </header>
      {menuOpen ? (
        <aside class="side-menu" aria-label={t('menu')}>
          <button class="icon close" aria-label={t('closeMenu')} onClick={() => setMenuOpen(false)}>
            ✕
          </button>
          {p.menu}
        </aside>
      ) : null}
      {p.banners}
      <main id="main">{p.children}</main>
      {p.showNav === false ? null : (
        <nav class="footer" aria-label={t('menu')}>
          {p.nav.map((n) => (
            <button
              key={n.key}
              class={n.current ? 'current' : undefined}
              aria-current={n.current ? 'page' : undefined}
              onClick={n.onSelect}
            >
              {n.glyph ? (
                <span class="nav-icon" aria-hidden="true">
                  {n.glyph}
                </span>
              ) : (
                <Icon path={n.icon} />
              )}
              <span>{n.title}</span>
            </button>
          ))}
        </nav>
      )}
      <ToastLine message={p.toast} />
    </div>
  );
}

/** The toast (a status line: read out once by screen readers). */
export function ToastLine(p: { message: ReadonlySignal<string> }) {
  return p.message.value ? (
    <div class="toast" role="status">
      {p.message.value}
    </div>
  ) : null;
}

/**
 * The update prompt: a region, not an alert (an alert would be read out on every change). Hidden
 * while `blocked` (a call is up: reloading would drop it).
 */
export function UpdateBanner(p: { update: ReadonlySignal<(() => void) | undefined>; blocked?: boolean }) {
  const t = useT();
  const apply = p.update.value;
  if (!apply || p.blocked) return null;
  return (
    <section class="banner" aria-label={t('updateReady')}>
      {t('updateReady')} <button onClick={apply}>{t('reload')}</button>
    </section>
  );
}

/** "You are offline" while the browser says so. */
export function OfflineBanner(p: { online: ReadonlySignal<boolean> }) {
  const t = useT();
  return p.online.value ? null : <div class="banner">{t('offline')}</div>;
}
