import { describe, expect, it } from 'vitest';
import { BranchSigner } from './branch-signer.js';

const fields = { callId: 'a84b4c76e66710', cseq: '314159 INVITE', upstream: 'udp 192.0.2.4 5060' };

describe('BranchSigner', () => {
  it('signs a branch that keeps its prefix and verifies for the same fields only', () => {
    const signer = new BranchSigner(Buffer.alloc(32, 1));
    const branch = signer.sign('z9hG4bKLabc', fields);
    expect(branch.startsWith('z9hG4bKLabc.')).toBe(true);
    expect(branch).toMatch(/^z9hG4bKLabc\.[A-Za-z0-9_-]{26}$/);
    expect(signer.verify(branch, fields)).toBe(true);
    expect(signer.verify(branch, { ...fields, upstream: 'udp 203.0.113.66 5060' })).toBe(false);
    expect(signer.verify(branch, { ...fields, callId: 'other' })).toBe(false);
    expect(signer.verify(branch, { ...fields, cseq: '314160 INVITE' })).toBe(false);
    expect(signer.sign('z9hG4bKLabc', fields)).not.toBe(branch);
  });

  it('refuses branches of another key, tampered ones and garbage', () => {
    const signer = new BranchSigner(Buffer.alloc(32, 1));
    const other = new BranchSigner(Buffer.alloc(32, 2));
    const branch = signer.sign('z9hG4bKLabc', fields);
    expect(other.verify(branch, fields)).toBe(false);
    const flipped = branch.slice(0, -1) + (branch.endsWith('A') ? 'B' : 'A');
    expect(signer.verify(flipped, fields)).toBe(false);
    for (const junk of ['', 'z9hG4bK', 'z9hG4bK.', '.'.repeat(27), 'z9hG4bKx.' + 'A'.repeat(26)])
      expect(signer.verify(junk, fields)).toBe(false);
  });
});
