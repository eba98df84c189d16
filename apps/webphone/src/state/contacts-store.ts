import { signal, type ReadonlySignal } from '@preact/signals';
import type { Colleague, Contact } from '../api/webphone-api.js';

/** The Contacts page: a search over the domain phonebook and the colleagues, newest answer wins. */
export class ContactsStore {
  readonly query = signal('');
  private readonly found = signal<{ phonebook: Contact[]; colleagues: Colleague[] }>({ phonebook: [], colleagues: [] });
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly api: {
      contacts(q: string): Promise<Contact[]>;
      colleagues(q: string): Promise<Colleague[]>;
    },
  ) {}

  get results(): ReadonlySignal<{ phonebook: Contact[]; colleagues: Colleague[] }> {
    return this.found;
  }

  /** A new search text: asked 200 ms after the last keystroke. */
  search(q: string): void {
    this.query.value = q.slice(0, 100);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), 200);
  }

  async refresh(): Promise<void> {
    const q = this.query.value;
    const [phonebook, colleagues] = await Promise.all([
      this.api.contacts(q).catch(() => []),
      this.api.colleagues(q).catch(() => []),
    ]);
    if (q === this.query.value) this.found.value = { phonebook, colleagues };
  }
}
