import { AgentPage } from '../pages/agent/agent-page.js';
import { ContactsPage } from '../pages/contacts/contacts-page.js';
import { CustomPage } from '../pages/custom/custom-page.js';
import { DialpadPage } from '../pages/dialpad/dialpad-page.js';
import { HistoryPage } from '../pages/history/history-page.js';
import { SettingsPage } from '../pages/settings/settings-page.js';
import type { SignedIn } from '../state/webphone-controller.js';
import type { NavEntry } from './nav.js';

/** The footer page `entry` names. */
export function PageView(p: { entry: NavEntry | undefined; user: SignedIn }) {
  switch (p.entry?.page ?? 'dialpad') {
    case 'history':
      return <HistoryPage history={p.user.history} />;
    case 'contacts':
      return <ContactsPage contacts={p.user.contacts} />;
    case 'settings':
      return <SettingsPage user={p.user} />;
    case 'agent':
      return <AgentPage agent={p.user.agent} />;
    case 'iframe':
    case 'custom':
      return <CustomPage item={p.entry?.item} title={p.entry?.title ?? ''} sip={p.user.config.sip} />;
    default:
      return <DialpadPage />;
  }
}
