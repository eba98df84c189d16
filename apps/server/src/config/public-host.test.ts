import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  detectPublicHost,
  guessPublicHost,
  isLoopbackHost,
  reachableInterfaceAddresses,
  routeSourceAddress,
} from './public-host.js';

const iface = (address: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo =>
  ({ address, family, internal, netmask: '', mac: '', cidr: null }) as unknown as NetworkInterfaceInfo;

const lan = {
  lo: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)],
  eth0: [iface('fe80::1', 'IPv6'), iface('2001:db8::5', 'IPv6'), iface('192.168.1.20', 'IPv4')],
};
const offline = { lo: [iface('127.0.0.1', 'IPv4', true)] };

describe('public host detection', () => {
  it('knows loopback in every spelling', () => {
    for (const h of [
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '[::1]',
      'localhost',
      'LOCALHOST',
      '::ffff:127.0.0.1',
      'a.localhost',
    ])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['192.168.1.20', '2001:db8::5', 'sip.example.com', '0.0.0.0'])
      expect(isLoopbackHost(h), h).toBe(false);
  });

  it('lists reachable interface addresses, IPv4 first, without loopback or link-local', () => {
    expect(reachableInterfaceAddresses(lan)).toEqual(['192.168.1.20', '2001:db8::5']);
    expect(reachableInterfaceAddresses(offline)).toEqual([]);
  });

  it('guesses the bind address when it is specific, else the first interface, else loopback', () => {
    expect(guessPublicHost('10.0.0.7', lan)).toEqual({ host: '10.0.0.7', source: 'bind' });
    expect(guessPublicHost('0.0.0.0', lan)).toEqual({ host: '192.168.1.20', source: 'interface' });
    expect(guessPublicHost('::', offline)).toEqual({ host: '127.0.0.1', source: 'loopback' });
  });

  it('prefers the address of the default route over the interface list', async () => {
    const probes: string[] = [];
    const route = (probe: string) => {
      probes.push(probe);
      return Promise.resolve(probe.includes(':') ? undefined : '10.1.2.3');
    };
    expect(await detectPublicHost('0.0.0.0', { route, interfaces: lan })).toEqual({
      host: '10.1.2.3',
      source: 'route',
    });
    expect(probes).toHaveLength(1);
  });

  it('tries the IPv6 route when bound to :: and falls back to the interfaces without any route', async () => {
    const v6 = (probe: string) => Promise.resolve(probe.includes(':') ? '2001:db8::9' : undefined);
    expect(await detectPublicHost('::', { route: v6, interfaces: lan })).toEqual({
      host: '2001:db8::9',
      source: 'route',
    });
    const none = () => Promise.resolve(undefined);
    expect(await detectPublicHost('0.0.0.0', { route: none, interfaces: lan })).toEqual({
      host: '192.168.1.20',
      source: 'interface',
    });
    expect(await detectPublicHost('0.0.0.0', { route: none, interfaces: offline })).toEqual({
      host: '127.0.0.1',
      source: 'loopback',
    });
  });

  it('keeps a specific bind address without probing', async () => {
    const route = () => Promise.reject(new Error('must not probe'));
    expect(await detectPublicHost('192.168.1.20', { route })).toEqual({ host: '192.168.1.20', source: 'bind' });
  });

  it('never reports loopback as the route source (the probe of a loopback target)', async () => {
    expect(await routeSourceAddress('127.0.0.1', 'udp4')).toBeUndefined();
  });
});
