import { describe, expect, it } from 'vitest';
import { CallState as SdkCallState } from '../../../../packages/sdk/src/call-state.js';
import {
  ConnectionState as SdkConnectionState,
  RegistrationState as SdkRegistrationState,
} from '../../../../packages/sdk/src/registration-state.js';
import { CallState, ConnectionState, RegistrationState } from './sdk-states.js';

describe('the SDK state values the web phone reads without loading the SDK', () => {
  it('are the SDK enums, name for name and value for value', () => {
    expect(CallState).toEqual({ ...SdkCallState });
    expect(RegistrationState).toEqual({ ...SdkRegistrationState });
    expect(ConnectionState).toEqual({ ...SdkConnectionState });
  });
});
