import { Icon } from '@handset/ui';
import { PHONE_ICON } from '../../icons.js';
import { useController, useT } from '../../shell/controller-context.js';
import type { ContactsStore } from '../../state/contacts-store.js';

/** Contacts: the domain phonebook and the colleagues, a search, a tap to call. */
export function ContactsPage(p: { contacts: ContactsStore }) {
  const c = useController();
  const t = useT();
  const { phonebook, colleagues } = p.contacts.results.value;
  const row = (key: string, name: string, number: string, sub?: string) => (
    <li key={key}>
      <div class="grow">
        <strong>{name}</strong>
        <br />
        <small>{sub ? `${number} · ${sub}` : number}</small>
      </div>
      <button class="icon call" aria-label={t('callContact', { name })} onClick={() => void c.actions.dial(number)}>
        <Icon path={PHONE_ICON} />
      </button>
    </li>
  );
  const book = phonebook.flatMap((e) => {
    const nums = e.numbers.length
      ? e.numbers.map((n) => [n.number, n.label] as const)
      : e.ext
        ? [[e.ext, undefined] as const]
        : [];
    return nums.map(([n, label]) => row(`${e.id}-${n}`, e.name, n, label ?? e.company));
  });
  return (
    <section class="page contacts">
      <input
        id="contact-search"
        type="search"
        aria-label={t('searchContacts')}
        placeholder={t('searchContacts')}
        value={p.contacts.query.value}
        onInput={(e) => p.contacts.search(e.currentTarget.value)}
      />
      {colleagues.length ? (
        <>
          <h2>{t('colleagues')}</h2>
          <ul class="list" aria-label={t('colleagues')}>
            {colleagues.map((u) => row(`u-${u.ext}`, u.name ?? u.ext, u.ext))}
          </ul>
        </>
      ) : null}
      {book.length ? (
        <>
          <h2>{t('phonebook')}</h2>
          <ul class="list" aria-label={t('phonebook')}>
            {book}
          </ul>
        </>
      ) : null}
      {!colleagues.length && !book.length ? <p class="empty">{t('noContacts')}</p> : null}
    </section>
  );
}
