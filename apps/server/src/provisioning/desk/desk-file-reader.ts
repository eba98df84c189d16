/**
 * Test helper: reads a desk-phone file back the way the phone would (each vendor's own syntax,
 * parsed strictly) and returns the first account's SIP settings, so tests register a real SIP
 * client with what the file says. Throws when the file does not parse in the vendor's syntax.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { DeskVendor } from '../provisioning-tables.js';

/** Line 1 as a phone configured from the file would use it. */
export interface ReadAccount {
  /** SIP domain (registrar / AOR host). */
  domain: string;
  user: string;
  authUser: string;
  password: string;
  /** Where requests go (outbound proxy). */
  proxyHost: string;
  port: number;
  transport: 'udp' | 'tcp' | 'tls';
}

/** The parsed file: every setting as a flat map (XML attributes and elements included). */
export function readDeskFile(vendor: DeskVendor | 'xml', body: string): Map<string, string> {
  const out = new Map<string, string>();
  if (vendor === 'yealink' || vendor === 'fanvil') {
    const lines = body.split('\n');
    if (vendor === 'yealink' && lines[0] !== '#!version:1.0.0.1')
      throw new Error('yealink: no #!version:1.0.0.1 header');
    if (vendor === 'fanvil' && !lines[0]?.startsWith('<<VOIP CONFIG FILE>>')) throw new Error('fanvil: no header');
    if (vendor === 'fanvil' && !body.includes('<<END OF FILE>>')) throw new Error('fanvil: no end marker');
    for (const raw of lines.slice(1)) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#') || line.startsWith('<') || line.startsWith('--')) continue;
      const sep = vendor === 'yealink' ? line.indexOf('=') : line.indexOf(':');
      if (sep < 1) throw new Error(`${vendor}: malformed line "${line}"`);
      out.set(line.slice(0, sep).trim(), line.slice(sep + 1).trim());
    }
    return out;
  }
  const valid = XMLValidator.validate(body);
  if (valid !== true) throw new Error(`${vendor}: not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false }).parse(
    body,
  ) as Record<string, unknown>;
  const walk = (node: unknown, name: string) => {
    if (node === null || typeof node !== 'object') {
      // Repeated elements (phonebook entries) keep their own path as well.
      out.set(name, String(node));
      return;
    }
    if (name.includes('['))
      for (const [k, v] of Object.entries(node as Record<string, unknown>))
        if (typeof v !== 'object') out.set(`${name}/${k}`, text(v));
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
      if (k === '#text') out.set(name, text(v));
      else if (k.startsWith('@')) out.set(k.slice(1), text(v));
      else if (Array.isArray(v)) v.forEach((x: unknown, i) => walk(x, `${name}/${k}[${i}]`));
      else walk(v, k);
    }
  };
  walk(doc, '');
  if (vendor === 'snom') {
    // Indexed settings: <user_name idx="1">: collect them as name.idx.
    const phone = (doc.settings as Record<string, Record<string, unknown>> | undefined)?.['phone-settings'] ?? {};
    for (const [k, v] of Object.entries(phone)) {
      for (const item of Array.isArray(v) ? v : [v]) {
        if (item && typeof item === 'object' && '@idx' in item)
          out.set(
            `${k}.${String((item as Record<string, unknown>)['@idx'])}`,
            text((item as Record<string, unknown>)['#text']),
          );
        else if (item && typeof item === 'object') out.set(k, text((item as Record<string, unknown>)['#text']));
        else out.set(k, text(item));
      }
    }
  }
  return out;
}

/** A parsed scalar as text (absent: empty). */
function text(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

const TRANSPORT_NUMBER: Record<string, ReadAccount['transport']> = { '0': 'udp', '1': 'tcp', '2': 'tls', '3': 'tls' };

/** Line 1's account from a vendor's file. */
export function readAccount(vendor: DeskVendor, body: string): ReadAccount {
  const m = readDeskFile(vendor, body);
  const get = (k: string) => {
    const v = m.get(k);
    if (v === undefined) throw new Error(`${vendor}: no ${k} in the file`);
    return v;
  };
  const hostPort = (s: string) => {
    const i = s.lastIndexOf(':');
    return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
  };
  switch (vendor) {
    case 'yealink':
      return {
        domain: get('account.1.sip_server.1.address'),
        user: get('account.1.user_name'),
        authUser: get('account.1.auth_name'),
        password: get('account.1.password'),
        proxyHost: get('account.1.outbound_host'),
        port: Number(get('account.1.outbound_port')),
        transport: TRANSPORT_NUMBER[get('account.1.sip_server.1.transport_type')]!,
      };
    case 'polycom': {
      const t = get('reg.1.server.1.transport');
      return {
        domain: get('reg.1.server.1.address'),
        user: get('reg.1.address').split('@')[0]!,
        authUser: get('reg.1.auth.userId'),
        password: get('reg.1.auth.password'),
        proxyHost: get('reg.1.outboundProxy.address'),
        port: Number(get('reg.1.outboundProxy.port')),
        transport: t === 'TCPOnly' ? 'tcp' : t === 'TLS' ? 'tls' : 'udp',
      };
    }
    case 'grandstream': {
      const proxy = hostPort(get('P48'));
      return {
        domain: get('P47'),
        user: get('P35'),
        authUser: get('P36'),
        password: get('P34'),
        proxyHost: proxy.host,
        port: proxy.port,
        transport: TRANSPORT_NUMBER[get('P130')]!,
      };
    }
    case 'snom': {
      const outbound = get('user_outbound.1');
      const [hp, param] = outbound.split(';');
      const proxy = hostPort(hp!);
      return {
        domain: get('user_host.1'),
        user: get('user_name.1'),
        authUser: get('user_pname.1'),
        password: get('user_pass.1'),
        proxyHost: proxy.host,
        port: proxy.port,
        transport: (param?.replace('transport=', '') ?? 'udp') as ReadAccount['transport'],
      };
    }
    case 'fanvil':
      return {
        domain: get('SIP1 Register Addr'),
        user: get('SIP1 Phone Number'),
        authUser: get('SIP1 Register User'),
        password: get('SIP1 Register Pswd'),
        proxyHost: get('SIP1 Proxy Addr'),
        port: Number(get('SIP1 Proxy Port')),
        transport: TRANSPORT_NUMBER[get('SIP1 Transport Type')]!,
      };
    case 'cisco': {
      const proxy = hostPort(get('Outbound_Proxy_1_'));
      return {
        domain: hostPort(get('Proxy_1_')).host,
        user: get('User_ID_1_'),
        authUser: get('Auth_ID_1_'),
        password: get('Password_1_'),
        proxyHost: proxy.host,
        port: proxy.port,
        transport: get('SIP_Transport_1_').toLowerCase() as ReadAccount['transport'],
      };
    }
  }
}
