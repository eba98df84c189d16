import { computed, signal, type ReadonlySignal } from '@preact/signals';
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';

/** The languages every Handset web app ships; add one by adding its catalog in each app. */
export const LANGUAGES = { en: 'English', vi: 'Tiếng Việt' } as const;
/** A shipped language code. */
export type Language = keyof typeof LANGUAGES;

/** Values put into a message's `{name}` placeholders. */
export type Vars = Record<string, string | number>;
/** A translate function for one language: `t('callBack', {number: '1002'})`. */
export type Translate<K extends string = string> = (key: K, vars?: Vars) => string;
/** Every language's messages for the keys `K`; English is the reference and the fallback. */
export type Catalogs<K extends string> = { en: Record<K, string> } & Record<Exclude<Language, 'en'>, Record<K, string>>;

/** The stored choice, else the browser's first supported language, else English. */
export function pickLanguage(stored: string | null, preferred: readonly string[]): Language {
  for (const l of [stored, ...preferred]) {
    const base = l?.toLowerCase().split('-')[0];
    if (base && base in LANGUAGES) return base as Language;
  }
  return 'en';
}

/** Builds the translator for `lang` (a missing key falls back to English, then to the key). */
export function translator<K extends string>(catalogs: Catalogs<K>, lang: Language): Translate<K> {
  const m = catalogs[lang];
  return (key, vars) => {
    let s = m[key] ?? catalogs.en[key] ?? key;
    for (const [k, v] of Object.entries(vars ?? {})) s = s.replace(`{${k}}`, String(v));
    return s;
  };
}

/** The app's language as a signal, and its translator derived from it. */
export interface I18n<K extends string = string> {
  readonly lang: ReadonlySignal<Language>;
  readonly t: ReadonlySignal<Translate<K>>;
  setLanguage(lang: Language): void;
}

const LANG_KEY = 'handset.lang';

/** The language kept in `storage` (else the browser's); choosing one stores it and sets `<html lang>`. */
export function createI18n<K extends string>(
  catalogs: Catalogs<K>,
  storage: Pick<Storage, 'getItem' | 'setItem'>,
  preferred: readonly string[],
  doc?: Document,
): I18n<K> {
  const lang = signal(pickLanguage(storage.getItem(LANG_KEY), preferred));
  if (doc) doc.documentElement.lang = lang.value;
  return {
    lang,
    t: computed(() => translator(catalogs, lang.value)),
    setLanguage(next) {
      storage.setItem(LANG_KEY, next);
      if (doc) doc.documentElement.lang = next;
      lang.value = next;
    },
  };
}

/** The app's {@link I18n}, provided at its root. */
export const I18nContext = createContext<I18n<never> | undefined>(undefined);

/**
 * The translator of the app's language (the component re-renders when it changes). `K` is the
 * app's key set: the app's provider holds its full catalog, of which the shared keys are a part.
 */
export function useT<K extends string = UiKey>(): Translate<K> {
  const i18n = useContext(I18nContext);
  if (!i18n) throw new Error('useT outside an I18nContext provider');
  return i18n.t.value as Translate<K>;
}

/** The app's {@link I18n} itself (language picker). */
export function useI18n(): I18n<never> {
  const i18n = useContext(I18nContext);
  if (!i18n) throw new Error('useI18n outside an I18nContext provider');
  return i18n;
}

const uiEn = {
  email: 'Email',
  password: 'Password',
  signIn: 'Sign in',
  signingIn: 'Signing in…',
  signOut: 'Sign out',
  signUp: 'Create an account',
  signInWith: 'Sign in with',
  withEmail: 'E-mail',
  withSip: 'SIP account',
  sipAccount: 'SIP account (extension@domain)',
  sipPassword: 'SIP password',
  name: 'Name',
  createAccount: 'Create account',
  creatingAccount: 'Creating your account…',
  backToSignIn: 'Back to sign-in',
  signInFailed: 'Sign-in failed: {reason}',
  signUpFailed: 'Sign-up failed: {reason}',
  networkError: 'the server cannot be reached',
  language: 'Language',
  theme: 'Theme',
  themeAuto: 'Automatic',
  themeLight: 'Light',
  themeDark: 'Dark',
  menu: 'Menu',
  closeMenu: 'Close menu',
  updateReady: 'A new version is available.',
  reload: 'Reload',
  offline: 'You are offline; calls resume when the network is back.',
  build: 'Build {uuid}',
};

const uiVi: Record<keyof typeof uiEn, string> = {
  email: 'Email',
  password: 'Mật khẩu',
  signIn: 'Đăng nhập',
  signingIn: 'Đang đăng nhập…',
  signOut: 'Đăng xuất',
  signUp: 'Tạo tài khoản',
  signInWith: 'Đăng nhập bằng',
  withEmail: 'E-mail',
  withSip: 'Tài khoản SIP',
  sipAccount: 'Tài khoản SIP (máy lẻ@tên miền)',
  sipPassword: 'Mật khẩu SIP',
  name: 'Họ tên',
  createAccount: 'Tạo tài khoản',
  creatingAccount: 'Đang tạo tài khoản…',
  backToSignIn: 'Quay lại đăng nhập',
  signInFailed: 'Đăng nhập thất bại: {reason}',
  signUpFailed: 'Đăng ký thất bại: {reason}',
  networkError: 'không kết nối được máy chủ',
  language: 'Ngôn ngữ',
  theme: 'Giao diện',
  themeAuto: 'Tự động',
  themeLight: 'Sáng',
  themeDark: 'Tối',
  menu: 'Menu',
  closeMenu: 'Đóng menu',
  updateReady: 'Đã có phiên bản mới.',
  reload: 'Tải lại',
  offline: 'Bạn đang ngoại tuyến; cuộc gọi sẽ tiếp tục khi có mạng.',
  build: 'Bản dựng {uuid}',
};

/** The strings of the shared parts (sign-in, layout, theme, update prompt, errors). */
export const uiMessages = { en: uiEn, vi: uiVi } satisfies Catalogs<keyof typeof uiEn>;
/** A key of the shared strings. */
export type UiKey = keyof typeof uiMessages.en;
