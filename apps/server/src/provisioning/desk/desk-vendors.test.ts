import { describe, expect, it } from 'vitest';
import { checkSyncEvent, classifyDeskFile, parseUserAgent } from './desk-vendors.js';
import { colonMac, macsIn, normalizeMac } from './mac-address.js';

describe('MAC addresses', () => {
  it.each([
    ['80:5E:C0:12:34:56', '805ec0123456'],
    ['80-5e-c0-12-34-56', '805ec0123456'],
    ['805e.c012.3456', '805ec0123456'],
    ['805EC0123456', '805ec0123456'],
    [' 805ec0123456 ', '805ec0123456'],
  ])('reads %s as %s', (input, mac) => expect(normalizeMac(input)).toBe(mac));

  it.each([
    '80:5e:c0:12:34',
    '80:5e-c0:12:34:56',
    '805ec012345g',
    '000000000000',
    'ff:ff:ff:ff:ff:ff',
    '',
    'x'.repeat(100),
  ])('refuses %j', (input) => expect(normalizeMac(input)).toBeUndefined());

  it('finds MACs in any notation inside a User-Agent, and writes the colon form', () => {
    expect(macsIn('Yealink SIP-T46S 66.86.0.15 80:5e:c0:12:34:56')).toEqual(['805ec0123456']);
    expect(macsIn('Cisco/SPA504G-7.6.2b (88755A123456)(CCQ1)')).toEqual(['88755a123456']);
    expect(macsIn('firmware 1.2.3.4 build 20240101')).toEqual([]);
    expect(colonMac('805ec0123456')).toBe('80:5e:c0:12:34:56');
  });
});

describe('vendor file names', () => {
  it.each([
    ['y000000000028.cfg', { kind: 'common', vendor: 'yealink' }],
    ['000000000000.cfg', { kind: 'common', vendor: 'polycom' }],
    ['snomD785.htm', { kind: 'common', vendor: 'snom' }],
    ['805ec0123456.cfg', { kind: 'config', mac: '805ec0123456', vendors: ['yealink', 'polycom', 'fanvil'] }],
    ['0004f2123456-phone.cfg', { kind: 'config', mac: '0004f2123456', vendors: ['polycom'] }],
    ['cfg000b82123456.xml', { kind: 'config', mac: '000b82123456', vendors: ['grandstream'] }],
    ['spa88755A123456.xml', { kind: 'config', mac: '88755a123456', vendors: ['cisco'] }],
    ['000413123456.xml', { kind: 'config', mac: '000413123456', vendors: ['snom', 'cisco'] }],
    ['0004f2123456-directory.xml', { kind: 'phonebook', mac: '0004f2123456', vendors: ['polycom'] }],
    ['phonebook.xml', { kind: 'phonebook', mac: undefined, vendors: ['grandstream'] }],
  ])('%s', (name, expected) => expect(classifyDeskFile(name)).toMatchObject(expected));

  it.each([
    '',
    'passwd',
    '../805ec0123456.cfg',
    '805ec012345.cfg',
    '000000000000-phone.cfg',
    'a'.repeat(65),
    'cfg.xml',
  ])('nothing for %j', (name) => expect(classifyDeskFile(name)).toBeUndefined());
});

describe('User-Agents', () => {
  it.each([
    ['Yealink SIP-T46S 66.86.0.15 80:5e:c0:12:34:56', 'yealink', 'T46S', '66.86.0.15', ['805ec0123456']],
    ['FileTransport PolycomVVX-VVX_411-UA/6.3.1.8427 Type/Application', 'polycom', 'VVX_411', '6.3.1.8427', []],
    [
      'Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82123456',
      'grandstream',
      'GXP2170',
      '1.0.11.3',
      ['000b82123456'],
    ],
    [
      'Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 010.1.33.33 000413ABCDEF)',
      'snom',
      'D785',
      '10.1.33.33',
      ['000413abcdef'],
    ],
    ['Fanvil X4U 2.12.1 0c383e123456', 'fanvil', 'X4U', '2.12.1', ['0c383e123456']],
    ['Cisco/SPA504G-7.6.2b (88755A123456)(CCQ1)', 'cisco', 'SPA504G', '7.6.2b', ['88755a123456']],
  ])('%s', (ua, vendor, model, firmware, macs) =>
    expect(parseUserAgent(ua)).toEqual({ vendor, model, firmware, macs }),
  );

  it('reads only the start of a huge or odd User-Agent', () => {
    expect(parseUserAgent('curl/8.0')).toEqual({ vendor: undefined, model: undefined, firmware: undefined, macs: [] });
    expect(parseUserAgent('x'.repeat(100_000) + ' Yealink SIP-T46S 1.2 805ec0123456').vendor).toBeUndefined();
    expect(parseUserAgent(undefined).macs).toEqual([]);
  });

  it('names the check-sync event per vendor', () => {
    expect(checkSyncEvent('yealink', false)).toBe('check-sync;reboot=false');
    expect(checkSyncEvent('snom', true)).toBe('check-sync;reboot=true');
    expect(checkSyncEvent('cisco', false)).toBe('resync');
    expect(checkSyncEvent('cisco', true)).toBe('reboot');
  });
});
