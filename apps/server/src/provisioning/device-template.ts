import type { DeviceTemplate } from './provisioning-tables.js';

const UPPER_UUID = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
const LOWER_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Prefix Handset's own web phone puts before its installation id. */
export const WEB_DEVICE_PREFIX = 'web:';

/**
 * The device template from the app's deviceId: SessionTalk's iOS app sends an upper-case UUID,
 * the Windows app a lower-case UUID, Android anything else; Handset's web phone sends `web:<id>`.
 */
export function deviceTemplateFor(appDeviceId: string): DeviceTemplate {
  if (appDeviceId.startsWith(WEB_DEVICE_PREFIX)) return 'web';
  if (UPPER_UUID.test(appDeviceId)) return 'sessiontalk/ios';
  if (LOWER_UUID.test(appDeviceId)) return 'sessiontalk/windows';
  return 'sessiontalk/android';
}
