import type { Phone, PhoneOptions } from '@handset/sdk';

/**
 * The `*#0*#` switch over the SDK as it is: JsSIP logs SIP messages through the `debug` module
 * bundled inside the SDK, which the SDK turns on (namespace `JsSIP:Transport`, kept by `debug` in
 * localStorage.debug) whenever a Phone is built with `sipTrace: true`, and never turns off.
 *
 * On takes effect at once, during a call too: a Phone built with the switch and closed at once
 * (it never connects) turns the shared namespace on. Off clears localStorage.debug, and takes
 * effect on the next page load (the caller reloads when no call is up). An SDK call to switch it
 * both ways would replace this.
 */
export function setSipTrace(
  on: boolean,
  storage: Pick<Storage, 'removeItem'>,
  PhoneClass: new (o: PhoneOptions) => Phone,
): void {
  if (on) {
    new PhoneClass({ server: 'ws://127.0.0.1:9/', uri: 'sip:trace@invalid', password: '', sipTrace: true }).close();
    return;
  }
  storage.removeItem('debug');
}
