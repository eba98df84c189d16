import type { CallStats } from '@handset/sdk';
import { CallState, RegistrationState } from './state/sdk-states.js';
import { currentCall } from './state/call-view.js';
import type { WebphoneController } from './state/webphone-controller.js';

/** What the e2e tests read (window.__handsetWebphone): call states and getStats, nothing that acts. */
export interface WebphoneTestHook {
  calls(): Array<{ id: string; state: string; direction: string; remote: string }>;
  stats(): Promise<CallStats | undefined>;
  registered(): boolean;
}

/** The read-only hook over the controller's stores. */
export function testHook(c: WebphoneController): WebphoneTestHook {
  return {
    calls: () =>
      (c.store.value?.calls.value ?? []).map((v) => ({
        id: v.id,
        state: v.state,
        direction: v.direction,
        remote: v.number,
      })),
    stats: async () => {
      const store = c.store.value;
      const v = currentCall(store?.calls.value ?? []);
      const call = v && store?.call(v.id);
      return call && call.state === CallState.Active ? call.getStats() : undefined;
    },
    registered: () => c.store.value?.registration.value === RegistrationState.Registered,
  };
}
