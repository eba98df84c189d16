import { uiMessages, type Catalogs } from '@handset/ui';

/** The console's own strings (the shared ones are in @handset/ui). */
const en = {
  consoleTitle: 'Handset console',
  devices: 'Devices',
  noDevices: 'No devices yet. Desk phones and softphones provisioned for this domain will be listed here.',
  agentsRefused: 'the console is for owners and administrators; agents use the web phone',
  loading: 'Loading…',
  webphone: 'Web phone',
};

const vi: Record<keyof typeof en, string> = {
  consoleTitle: 'Bảng điều khiển Handset',
  devices: 'Thiết bị',
  noDevices: 'Chưa có thiết bị. Điện thoại bàn và softphone được cấp cho tên miền này sẽ hiện ở đây.',
  agentsRefused: 'bảng điều khiển dành cho chủ sở hữu và quản trị viên; nhân viên dùng điện thoại web',
  loading: 'Đang tải…',
  webphone: 'Điện thoại web',
};

/** Every string of the console, in each language. */
export const messages = {
  en: { ...uiMessages.en, ...en },
  vi: { ...uiMessages.vi, ...vi },
} satisfies Catalogs<string>;
/** A message key of the console. */
export type MessageKey = keyof typeof messages.en;
