import { describe, expect, it } from 'vitest';
import { pickCredentials } from './pick-credentials.js';

describe('pickCredentials', () => {
  const theirs = 'Digest username="bob", realm="atlanta.com", nonce="n1", uri="sip:x", response="00"';
  const ours = 'Digest username="bob", realm="biloxi.com", nonce="n2", uri="sip:x", response="00"';

  it('chooses the credentials for our realm among several', () => {
    expect(pickCredentials([theirs, ours], 'biloxi.com')).toBe(ours);
    expect(pickCredentials([ours, theirs], 'atlanta.com')).toBe(theirs);
  });

  it('returns undefined when none is for our realm', () => {
    expect(pickCredentials([theirs], 'biloxi.com')).toBeUndefined();
    expect(pickCredentials([], 'biloxi.com')).toBeUndefined();
  });

  it('skips malformed values and other schemes', () => {
    expect(pickCredentials(['Digest realm="biloxi.com', 'Basic realm="biloxi.com"', ours], 'biloxi.com')).toBe(ours);
  });

  it('compares realms exactly (case-sensitive quoted strings)', () => {
    expect(pickCredentials([ours], 'BILOXI.COM')).toBeUndefined();
  });
});
