/**
 * @handset/ui: what Handset's web apps share (the web phone at `/`, the console at `/console/`),
 * on Preact with signals: sign-in, the API client and session, i18n, theme, toasts and error
 * text, the service-worker update prompt, the layout and navigation.
 */
export { ApiClient, ApiError, type Principal, type SignInOptions } from './api-client.js';
export { Session, linkDomain, type SignInFields, type SignInMode } from './session.js';
export {
  LANGUAGES,
  I18nContext,
  createI18n,
  pickLanguage,
  translator,
  uiMessages,
  useI18n,
  useT,
  type Catalogs,
  type I18n,
  type Language,
  type Translate,
  type UiKey,
  type Vars,
} from './i18n.js';
export { THEMES, createTheme, type Theme, type ThemeStore } from './theme.js';
export { Toasts, errorText } from './toasts.js';
export { registerServiceWorker, type ServiceWorkerHandle } from './service-worker.js';
export { onlineSignal } from './online.js';
export { SignInForm, type SignInFormProps } from './sign-in/sign-in-form.js';
export {
  AppShell,
  OfflineBanner,
  ToastLine,
  UpdateBanner,
  type AppShellProps,
  type NavItem,
} from './layout/app-shell.js';
export { Icon } from './layout/icon.js';
export { LanguagePicker, ThemePicker } from './layout/pickers.js';
