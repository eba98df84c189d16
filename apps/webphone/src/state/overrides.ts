/** Settings a user may change on this device where `webphone.edit_settings` allows it. */
export interface Overrides {
  displayName?: string | undefined;
  wsUrl?: string | undefined;
}

const KEY = 'handset.overrides';

/** The stored overrides (none when editing is not allowed or the stored value is unreadable). */
export function readOverrides(storage: Pick<Storage, 'getItem'>, editable: boolean): Overrides {
  if (!editable) return {};
  try {
    const v = JSON.parse(storage.getItem(KEY) ?? '{}') as unknown;
    return typeof v === 'object' && v !== null ? v : {};
  } catch {
    return {};
  }
}

/** Stores the overrides; an empty field means "the administrator's value". */
export function writeOverrides(storage: Pick<Storage, 'setItem'>, o: Overrides): void {
  storage.setItem(KEY, JSON.stringify({ displayName: o.displayName || undefined, wsUrl: o.wsUrl || undefined }));
}
