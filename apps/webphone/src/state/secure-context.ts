/**
 * Whether this page can place calls: browsers give a microphone (getUserMedia) only to secure
 * contexts (HTTPS, or http://localhost). Opened as http://<lan-ip>:8080 the phone could register
 * but every call would hang on "Calling…"; it says so instead.
 */
export function canPlaceCalls(win: Pick<Window, 'isSecureContext' | 'navigator'>): boolean {
  return win.isSecureContext && typeof win.navigator.mediaDevices?.getUserMedia === 'function';
}
