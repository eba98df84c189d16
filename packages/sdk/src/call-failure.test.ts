import { describe, expect, it } from 'vitest';
import { callFailureOf, reasonText } from './call-failure.js';

describe('call failure', () => {
  it.each([
    [486, 'Busy Here', 'busy'],
    [603, 'Decline', 'declined'],
    [404, 'Not Found', 'not-found'],
    [480, 'No Answer', 'no-answer'],
    [480, 'Not registered', 'unavailable'],
    [408, 'Request Timeout', 'no-answer'],
    [488, 'Not Acceptable Here', 'media'],
    [503, 'Service Unavailable', 'unavailable'],
    [undefined, undefined, 'failed'],
  ] as const)('%s %s is %s', (status, phrase, want) => {
    expect(callFailureOf(status, phrase)).toBe(want);
  });

  it('reads the text of a Reason header and ignores what is not one', () => {
    expect(reasonText('SIP;cause=488;text="Media not possible: no relay"')).toBe('Media not possible: no relay');
    expect(reasonText('Q.850;cause=16')).toBeUndefined();
    expect(reasonText(undefined)).toBeUndefined();
    expect(reasonText(`SIP;text="${'x'.repeat(5000)}"`)).toBeUndefined();
  });
});
