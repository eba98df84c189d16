import { useState } from 'preact/hooks';
import { ThemePicker } from '@handset/ui';
import type { MessageKey } from '../../messages.js';
import { useController, useT } from '../../shell/controller-context.js';
import { writeOverrides } from '../../state/overrides.js';
import type { SignedIn } from '../../state/webphone-controller.js';
import { DeviceFields } from './device-fields.js';
import { RingtoneTest } from './ringtone-test.js';

/**
 * Settings: display name and WebSocket URL (editable only with `webphone.edit_settings`; saving
 * re-registers when no call is up), the SIP information, devices, ringtone test and theme.
 */
export function SettingsPage(p: { user: SignedIn }) {
  const c = useController();
  const t = useT();
  const cfg = p.user.config;
  const editable = cfg.config.flags.editSettings;
  const o = p.user.overrides;
  const [name, setName] = useState(o.displayName ?? cfg.sip.displayName);
  const [ws, setWs] = useState(o.wsUrl ?? cfg.wsUrl);
  const field = (id: string, key: MessageKey, el: preact.JSX.Element) => (
    <div class="field">
      <label for={id}>{t(key)}</label>
      {el}
    </div>
  );
  const save = () => {
    const wsUrl = ws.trim();
    if (wsUrl && !/^wss?:\/\//i.test(wsUrl)) return c.toasts.show(`${t('wsUrl')}: ws:// or wss://`);
    writeOverrides(c.d.storage, { displayName: name.trim(), wsUrl });
    c.toasts.show(t('saved'));
    if ((c.store.value?.calls.value.length ?? 0) === 0) void c.restartPhone();
  };
  return (
    <section class="page settings">
      {field(
        'display-name',
        'displayName',
        <input
          id="display-name"
          value={name}
          readOnly={!editable}
          maxLength={100}
          onInput={(e) => setName(e.currentTarget.value)}
        />,
      )}
      <h2>{t('sipInfo')}</h2>
      <dl>
        <dt>URI</dt>
        <dd>{cfg.sip.uri}</dd>
        <dt>Username</dt>
        <dd>{cfg.sip.username}</dd>
        <dt>Domain</dt>
        <dd>{cfg.sip.domain}</dd>
      </dl>
      {field(
        'ws-url',
        'wsUrl',
        <input
          id="ws-url"
          type="url"
          value={ws}
          readOnly={!editable}
          maxLength={500}
          onInput={(e) => setWs(e.currentTarget.value)}
        />,
      )}
      {editable ? (
        <button class="primary" onClick={save}>
          {t('save')}
        </button>
      ) : (
        <p class="hint">{t('readOnly')}</p>
      )}
      <h2>{t('devices')}</h2>
      <DeviceFields phone={c.phone} />
      <RingtoneTest />
      {field('theme', 'theme', <ThemePicker store={c.theme} id="theme" />)}
    </section>
  );
}
