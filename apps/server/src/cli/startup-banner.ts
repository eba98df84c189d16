/**
 * What `handset start` tells the admin once it listens: where to point a browser and a phone,
 * which optional parts are on, and what each missing one means. Plain text on a terminal, one
 * JSON log record otherwise (a service manager's journal).
 */
import type { ServerConfig } from '../config/server-config.js';
import { isLoopbackHost, WILDCARD_ADDRESSES, type PublicHostSource } from '../config/public-host.js';

/** An optional part of the platform: whether it is on, and what that means for users. */
export interface OptionalPart {
  name: string;
  on: boolean;
  /** When on: what is used. When off: what users miss and how to turn it on. */
  detail: string;
}

/** Everything the banner shows, as data (the JSON form is this object). */
export interface StartupSummary {
  version: string;
  urls: { webPhone: string; apiDocs: string; console: string; openApi: string; health: string };
  sip: Array<{ transport: string; port: number; uri?: string }>;
  publicHost: string;
  publicHostSource: PublicHostSource;
  bind: string;
  database: string;
  optional: OptionalPart[];
  warnings: string[];
}

/** What the running server reports, beside its config. */
export interface RunningPorts {
  httpPort: number;
  httpsPort: number | undefined;
  sipPorts: Readonly<Partial<Record<'udp' | 'tcp' | 'tls' | 'ws' | 'wss', number>>>;
}

const bracket = (host: string) => (host.includes(':') ? `[${host}]` : host);

const SOURCE_TEXT: Record<PublicHostSource, string> = {
  environment: 'HANDSET_PUBLIC_HOST',
  bind: 'the bind address HANDSET_BIND',
  route:
    'detected: the address of the default route; set HANDSET_PUBLIC_HOST to a DNS name or another address to change it',
  interface:
    'detected: the first network interface; set HANDSET_PUBLIC_HOST if phones reach this host by another address',
  loopback: 'no network address found; phones on other machines cannot reach this server',
};

/** The database as an admin should see it: never a password. */
export function describeDatabase(config: Pick<ServerConfig, 'database'>): string {
  const db = config.database;
  if (db.kind === 'pglite') return db.dir === undefined ? 'embedded PGlite, in memory' : `embedded PGlite in ${db.dir}`;
  try {
    const u = new URL(db.url);
    return `PostgreSQL ${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}

/** Builds the summary from the resolved config and the bound ports. */
export function summarizeStartup(config: ServerConfig, running: RunningPorts, version: string): StartupSummary {
  const host = bracket(config.publicHost);
  const base =
    running.httpsPort !== undefined
      ? `https://${host}${running.httpsPort === 443 ? '' : `:${running.httpsPort}`}`
      : `http://${host}${running.httpPort === 80 ? '' : `:${running.httpPort}`}`;
  const sip: StartupSummary['sip'] = [];
  for (const t of ['udp', 'tcp', 'tls'] as const) {
    const port = running.sipPorts[t];
    if (port !== undefined) sip.push({ transport: t, port });
  }
  if (running.sipPorts.ws !== undefined)
    sip.push({ transport: 'ws', port: running.sipPorts.ws, uri: `ws://${host}:${running.sipPorts.ws}/sip` });
  if (running.sipPorts.wss !== undefined)
    sip.push({ transport: 'wss', port: running.sipPorts.wss, uri: `wss://${host}:${running.sipPorts.wss}/sip` });

  const tlsOn = config.tls !== undefined;
  const turnOn = config.ice.urls.some((u) => /^turns?:/i.test(u));
  const optional: OptionalPart[] = [
    {
      name: 'TLS',
      on: tlsOn,
      detail: tlsOn
        ? config.tls?.source === 'self-signed'
          ? `self-signed certificate (${config.tls.certPath}); browsers warn once, desk phones may need it trusted`
          : `certificate ${config.tls?.certPath ?? ''}`
        : 'off: browsers on other machines refuse the microphone on plain http, so the web phone can only call from this host; no SIP over TLS. Set HANDSET_TLS=self-signed, or HANDSET_TLS_CERT and HANDSET_TLS_KEY',
    },
    {
      name: 'rtpengine',
      on: false,
      detail:
        'not used: media flows directly between the phones, so phones behind different NATs need TURN (browsers) or their own NAT traversal',
    },
    {
      name: 'Redis',
      on: config.redisUrl !== undefined,
      detail:
        config.redisUrl !== undefined
          ? 'live events shared with the other nodes'
          : 'off: a single node (set REDIS_URL to run several nodes that share live events)',
    },
    {
      name: 'TURN',
      on: turnOn,
      detail: turnOn
        ? `${config.ice.urls.length} ICE server URL(s)`
        : 'off: browsers behind NAT may connect calls without audio; set HANDSET_TURN_URLS and HANDSET_TURN_SECRET (coturn)',
    },
    {
      name: 'SMTP',
      on: config.mail.smtpUrl !== undefined,
      detail:
        config.mail.smtpUrl !== undefined
          ? `mail from ${config.mail.from}`
          : 'off: no password-reset or invitation mail is sent; set HANDSET_SMTP_URL',
    },
  ];

  const warnings: string[] = [];
  const source = config.publicHostSource ?? (config.publicHostIsDefault ? 'interface' : 'environment');
  if (isLoopbackHost(config.publicHost) && WILDCARD_ADDRESSES.has(config.bind)) {
    warnings.push(
      `Handset listens on every interface (${config.bind}) but tells phones to reach it at ${config.publicHost}: ` +
        'phones and browsers on other machines will register and then fail on every call. ' +
        "Set HANDSET_PUBLIC_HOST to this host's address or DNS name (or HANDSET_BIND=127.0.0.1 for a local-only server).",
    );
  }
  return {
    version,
    urls: {
      webPhone: `${base}/`,
      apiDocs: `${base}/api/docs`,
      console: `${base}/console/`,
      openApi: `${base}/api/v1/openapi.json`,
      health: `${base}/healthz`,
    },
    sip,
    publicHost: config.publicHost,
    publicHostSource: source,
    bind: config.bind,
    database: describeDatabase(config),
    optional,
    warnings,
  };
}

/** The summary as the text printed on a terminal. */
export function formatBanner(s: StartupSummary): string {
  const row = (label: string, value: string) => `  ${label.padEnd(13)}${value}`;
  const lines = [
    `Handset ${s.version} is running`,
    '',
    row('Web phone', s.urls.webPhone),
    row('API docs', s.urls.apiDocs),
    row('Console', s.urls.console),
    row('SIP', s.sip.map((p) => `${p.transport} ${p.uri ?? p.port}`).join(', ')),
    row('Public host', `${s.publicHost} (${SOURCE_TEXT[s.publicHostSource]})`),
    row('Listening on', s.bind),
    row('Database', s.database),
    '',
    '  Optional parts',
    ...s.optional.map((p) => row(`  ${p.name}`, p.on ? `on: ${p.detail}` : p.detail)),
  ];
  for (const w of s.warnings) lines.push('', `  WARNING: ${w}`);
  return `${lines.join('\n')}\n`;
}
