import { signal } from '@preact/signals';
import type { MenuItem } from '../api/webphone-api.js';

/** A footer page. */
export type Page = MenuItem['page'];

/** What the user is looking at: the page, the dialled number and the call screen's open panels. */
export class UiState {
  readonly page = signal<Page>('dialpad');
  /** The menu item of a custom or iframe page (several may exist). */
  readonly pageItem = signal<MenuItem | undefined>(undefined);
  /** The number on the dialpad. */
  readonly number = signal('');
  readonly keypadOpen = signal(false);
  readonly transferOpen = signal(false);
  /** "Add call": the dialpad shown over a call in conversation. */
  readonly addingCall = signal(false);

  /** Every call ended: the call screen's panels close. */
  resetCallPanels(): void {
    this.keypadOpen.value = false;
    this.transferOpen.value = false;
    this.addingCall.value = false;
  }
}
