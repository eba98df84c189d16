import type { MenuItem, WebphoneConfig } from '../../api/webphone-api.js';

/** An administrator's page: an iframe (`url`) or a text template with {{name}}, {{ext}}, {{domain}}. */
export function CustomPage(p: { item: MenuItem | undefined; title: string; sip: WebphoneConfig['sip'] }) {
  if (p.item?.page === 'iframe')
    return (
      <iframe
        class="fill"
        src={p.item.url ?? 'about:blank'}
        title={p.title}
        sandbox="allow-scripts allow-forms allow-same-origin allow-popups"
      />
    );
  const text = (p.item?.template ?? '').replace(/\{\{(name|ext|domain)\}\}/g, (_m, k: string) =>
    k === 'name' ? p.sip.displayName : k === 'ext' ? p.sip.username : p.sip.domain,
  );
  // Text, never HTML: the template cannot add markup.
  return <section class="page custom">{text}</section>;
}
