import { describe, expect, it } from 'vitest';
import { applyCodecPolicy } from './codec-policy.js';

const OFFER = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 9 0 8 13 110 126',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtcp-fb:111 transport-cc',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99',
  'a=rtpmap:96 VP8/90000',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:98 H264/90000',
  'a=rtpmap:99 rtx/90000',
  'a=fmtp:99 apt=98',
  '',
].join('\r\n');

const mLines = (sdp: string) => sdp.split('\r\n').filter((l) => l.startsWith('m='));

describe('applyCodecPolicy', () => {
  it('leaves the SDP untouched without a policy', () => {
    expect(applyCodecPolicy(OFFER, { delete: [], priority: [] })).toBe(OFFER);
  });

  it('deletes codecs by name and by /regex/ with their attribute lines', () => {
    const out = applyCodecPolicy(OFFER, { delete: ['PCMA', '/^G72/'], priority: [] });
    expect(mLines(out)[0]).toBe('m=audio 9 UDP/TLS/RTP/SAVPF 111 0 13 110 126');
    expect(out).not.toContain('PCMA');
    expect(out).not.toContain('G722');
    expect(out).toContain('a=rtpmap:0 PCMU/8000');
  });

  it('never deletes Opus, even when a pattern matches it', () => {
    const out = applyCodecPolicy(OFFER, { delete: ['opus', '/.*/'], priority: [] });
    expect(mLines(out)[0]).toBe('m=audio 9 UDP/TLS/RTP/SAVPF 111 13 110 126');
    expect(out).toContain('a=fmtp:111 minptime=10;useinbandfec=1');
  });

  it('puts priority codecs first and keeps the others in order', () => {
    const out = applyCodecPolicy(OFFER, { delete: [], priority: ['PCMU', 'G722'] });
    expect(mLines(out)[0]).toBe('m=audio 9 UDP/TLS/RTP/SAVPF 0 9 111 8 13 110 126');
  });

  it('removes the RTX bound to a deleted video codec', () => {
    const out = applyCodecPolicy(OFFER, { delete: ['H264'], priority: [] });
    expect(mLines(out)[1]).toBe('m=video 9 UDP/TLS/RTP/SAVPF 96 97');
    expect(out).not.toContain('apt=98');
  });

  it('keeps a section usable when every media codec would go', () => {
    const out = applyCodecPolicy(OFFER, { delete: ['VP8', 'H264'], priority: [] });
    expect(mLines(out)[1]).toBe('m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99');
  });
});
