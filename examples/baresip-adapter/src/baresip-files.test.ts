import type { PhoneConfiguration } from '@handset/device-adapter';
import { describe, expect, it } from 'vitest';
import { accountsFile, audioCodecs, configFile } from './baresip-files.js';

const config: PhoneConfiguration = {
  phone: { coder: 'G722,PCMU,AMR' },
  media: { stunServer: '', turnServer: '', turnUser: '', turnPassword: '' },
  ntp: { tz: 'UTC', ntp1: 'pool.ntp.org', ntp2: '' },
  sip: {
    server: 'pbx.example.net',
    port: 5070,
    transport: 'tcp',
    lines: [
      { line: 1, user: '1001', authUser: '1001', domain: 'a.example', displayName: 'Alice "A"', password: 'pw1' },
      { line: 2, user: '1002', authUser: '1002', domain: 'a.example', displayName: 'Bob', password: 'pw2' },
    ],
  },
};

describe('baresip files from a Handset configuration', () => {
  it('one account per line, through Handset as outbound proxy, with the PHONE codecs baresip knows', () => {
    expect(accountsFile(config).trim().split('\n')).toEqual([
      '"Alice A" <sip:1001@a.example;transport=tcp>;auth_user=1001;auth_pass=pw1;outbound="sip:pbx.example.net:5070;transport=tcp";regint=600;answermode=auto;audio_codecs=G722/16000/1,PCMU',
      '"Bob" <sip:1002@a.example;transport=tcp>;auth_user=1002;auth_pass=pw2;outbound="sip:pbx.example.net:5070;transport=tcp";regint=600;answermode=auto;audio_codecs=G722/16000/1,PCMU',
    ]);
  });

  it('falls back to PCMU and PCMA when no listed codec is known', () => {
    expect(audioCodecs('AMR-WB,iLBC')).toEqual(['PCMU', 'PCMA']);
    expect(audioCodecs(undefined)).toEqual(['PCMU', 'PCMA']);
  });

  it('refuses credentials an account line cannot carry, instead of writing a broken account', () => {
    const bad = structuredClone(config);
    bad.sip!.lines[0]!.password = 'a;b';
    expect(() => accountsFile(bad)).toThrow('line 1: the credentials hold characters a baresip account cannot carry');
  });

  it('config listens where told, loads STUN only when configured, and records NTP', () => {
    const local = { sipPort: 40000, ctrlPort: 40010, audioSource: 'ausine,440', audioPlayer: 'alsa,null' };
    const text = configFile(config, local);
    expect(text).toContain('sip_listen\t\t127.0.0.1:40000');
    expect(text).toContain('ctrl_tcp_listen\t\t127.0.0.1:40010');
    expect(text).not.toContain('stun.so');
    expect(configFile({ ...config, media: { ...config.media!, stunServer: 's:3478' } }, local)).toContain('stun.so');
    expect(text).toContain('# handset ntp: tz=UTC ntp1=pool.ntp.org ntp2=');
  });
});
