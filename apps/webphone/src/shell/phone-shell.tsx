import { AppShell, OfflineBanner, UpdateBanner, type NavItem } from '@handset/ui';
import { CallScreen } from '../calls/call-screen.js';
import { currentCall } from '../state/call-view.js';
import type { SignedIn } from '../state/webphone-controller.js';
import { useController, useT } from './controller-context.js';
import { navEntries, type NavEntry } from './nav.js';
import { PageView } from './page-view.js';
import { RegistrationStatus } from './registration-status.js';
import { SideMenu } from './side-menu.js';

/** The signed-in phone: the shared layout around the call screen or the footer page. */
export function PhoneShell(p: { user: SignedIn }) {
  const c = useController();
  const t = useT();
  const { ui } = c;
  const store = c.store.value;
  const calls = store?.calls.value ?? [];
  const call = currentCall(calls);
  const showCall = call !== undefined && !ui.addingCall.value;
  const nav = navEntries(p.user.config.config, t);
  const page = ui.page.value;
  const pageItem = ui.pageItem.value;
  const entry =
    nav.find((n) => n.page === page && (n.item === undefined || n.item === pageItem)) ??
    nav.find((n) => n.page === page);
  const select = (n: NavEntry) => {
    ui.page.value = n.page;
    ui.pageItem.value = n.item;
    if (n.page === 'history') void p.user.history.refresh();
    if (n.page === 'contacts') void p.user.contacts.refresh();
    if (n.page === 'agent') void p.user.agent.refresh();
  };
  const items: NavItem[] = nav.map((n, i) => ({
    key: `${n.page}-${i}`,
    title: n.title,
    icon: n.icon,
    glyph: n.glyph,
    current: n.page === page && (n.item === undefined || n.item === pageItem || pageItem === undefined),
    onSelect: () => select(n),
  }));
  return (
    <AppShell
      title={c.title()}
      status={<RegistrationStatus store={store} />}
      menu={<SideMenu user={p.user} />}
      menuRight={p.user.config.config.flags.menuRight}
      banners={
        <>
          <UpdateBanner update={c.d.serviceWorker.update} blocked={call !== undefined} />
          <OfflineBanner online={c.online} />
          {ui.addingCall.value && call ? (
            <div class="banner">
              <button onClick={() => (ui.addingCall.value = false)}>{`← ${call.label}`}</button>
            </div>
          ) : null}
        </>
      }
      nav={items}
      showNav={!showCall}
      toast={c.toasts.message}
    >
      {showCall && store ? (
        <CallScreen
          call={call}
          others={calls.filter((o) => o.id !== call.id)}
          actions={c.actions}
          ui={ui}
          now={store.now}
          stats={store.stats}
          peerConnection={(id) => store.call(id)?.peerConnection}
        />
      ) : (
        <PageView entry={entry} user={p.user} />
      )}
    </AppShell>
  );
}
