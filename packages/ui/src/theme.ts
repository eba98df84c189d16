import { effect, signal, type ReadonlySignal } from '@preact/signals';

/** Automatic follows the system's dark mode (prefers-color-scheme). */
export type Theme = 'auto' | 'light' | 'dark';
/** The choices, in the order a picker lists them. */
export const THEMES: readonly Theme[] = ['auto', 'light', 'dark'];

const KEY = 'handset.theme';

/** The chosen theme, kept in `storage` and applied as `<html data-theme>` (the CSS reads it). */
export interface ThemeStore {
  readonly theme: ReadonlySignal<Theme>;
  set(theme: Theme): void;
}

/** Reads the stored theme and applies every change to `root`. */
export function createTheme(storage: Pick<Storage, 'getItem' | 'setItem'>, root: HTMLElement): ThemeStore {
  const stored = storage.getItem(KEY);
  const theme = signal<Theme>(THEMES.includes(stored as Theme) ? (stored as Theme) : 'auto');
  effect(() => {
    root.dataset.theme = theme.value;
  });
  return {
    theme,
    set(next) {
      storage.setItem(KEY, next);
      theme.value = next;
    },
  };
}
