import { LANGUAGES, useI18n, useT, type Language } from '../i18n.js';
import { THEMES, type ThemeStore } from '../theme.js';

/** The language choice (a labelled select), stored and applied at once. */
export function LanguagePicker() {
  const i18n = useI18n();
  const t = useT();
  return (
    <label class="inline">
      {t('language')}{' '}
      <select
        aria-label={t('language')}
        value={i18n.lang.value}
        onChange={(e) => i18n.setLanguage(e.currentTarget.value as Language)}
      >
        {Object.entries(LANGUAGES).map(([code, name]) => (
          <option value={code}>{name}</option>
        ))}
      </select>
    </label>
  );
}

/** The theme choice: automatic (the system's dark mode), light or dark. */
export function ThemePicker(p: { store: ThemeStore; id?: string }) {
  const t = useT();
  const label = { auto: t('themeAuto'), light: t('themeLight'), dark: t('themeDark') };
  return (
    <select
      id={p.id ?? 'theme'}
      value={p.store.theme.value}
      onChange={(e) => p.store.set(e.currentTarget.value as (typeof THEMES)[number])}
    >
      {THEMES.map((v) => (
        <option value={v}>{label[v]}</option>
      ))}
    </select>
  );
}
