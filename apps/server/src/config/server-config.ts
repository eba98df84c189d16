import type { DigestAlgorithmName } from '@handset/sip';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './config-error.js';
import { decodeKey } from './key-encoding.js';
import { guessPublicHost, type PublicHostSource } from './public-host.js';
import type { ParallelScavengeSetting, UdpIoThreadSetting } from './runtime-tuning.js';
import type { IceConfig } from './turn-credentials.js';
import { LOOPBACK_ONLY, parseAllowEntry, type MetricsAccessConfig } from '../metrics/metrics-access.js';

/** pino log levels accepted by HANDSET_LOG_LEVEL. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where the records live: embedded PGlite (a directory, or memory) or a PostgreSQL server. */
export type DatabaseConfig =
  | { kind: 'pglite'; /** absolute directory, or undefined for an in-memory database */ dir: string | undefined }
  | { kind: 'postgres'; url: string };

/** TLS material: operator-supplied files, or a self-signed pair generated once into the data dir. */
export interface TlsConfig {
  source: 'files' | 'self-signed';
  certPath: string;
  keyPath: string;
}

/** Registrar limits (RFC 3261 §10.3). */
export interface RegistrarConfig {
  minExpires: number;
  maxExpires: number;
  defaultExpires: number;
  maxContacts: number;
}

/** Digest-auth brute-force protection and nonce lifetime. */
export interface AuthConfig {
  maxFailures: number;
  windowS: number;
  blockS: number;
  nonceTtlS: number;
  /**
   * Digest algorithms challenged with, most preferred first (HANDSET_DIGEST_ALGORITHMS).
   * Default MD5 alone: SIPp, JsSIP 3.x and baresip 1.0 fail when any challenge is not MD5
   * or when the first one is not; `SHA-256,MD5` gives RFC 8760 clients SHA-256.
   */
  digestAlgorithms: DigestAlgorithmName[];
}

/** Abuse limits of the SIP transports. */
export interface TransportConfig {
  maxConnectionsPerIp: number;
  maxMessageSize: number;
  /** Unregistered connections idle this long are closed. */
  idleTimeoutS: number;
  /** HANDSET_UDP_IO_THREAD: the SIP UDP socket served by a thread of its own (see runtime-tuning.ts). */
  udpIoThread: UdpIoThreadSetting;
}

/** Call-handling timers of the proxy. */
export interface ProxyConfig {
  /** An unanswered INVITE fork is cancelled after this long. */
  ringTimeoutS: number;
  /** An answered call with no BYE seen is ended (and its CDR written) after this long. */
  dialogTimeoutS: number;
}

/** The media plane (rtpengine). */
export interface MediaConfig {
  /** HANDSET_MEDIA_ANCHOR: `auto` anchors calls between WebRTC and plain SIP, `always` every call, `never` none. */
  anchor: 'auto' | 'always' | 'never';
  /** HANDSET_RTPENGINE: external rtpengines' ng ports; undefined starts a private one when installed. */
  rtpengines: Array<{ host: string; port: number }> | undefined;
  /** HANDSET_RTPENGINE_BIN: the rtpengine executable for the private one (name on PATH or path). */
  binary: string;
  /** HANDSET_RTP_PORT_MIN / _MAX: the private rtpengine's media ports. */
  portMin: number;
  portMax: number;
  /** HANDSET_RTP_ADDRESS: the local address its media sockets bind (default: the bind or public address). */
  rtpAddress: string | undefined;
}

/** Everything the server process needs to start, resolved and validated. */
export interface ServerConfig {
  /** Absolute path of the data directory (database, secret key, self-signed cert, run file). */
  dataDir: string;
  database: DatabaseConfig;
  /** Address the SIP and HTTP listeners bind to. */
  bind: string;
  /** Host advertised in Via / Record-Route / Path. */
  publicHost: string;
  /** True when HANDSET_PUBLIC_HOST was not set and {@link publicHost} is a guess (worth a warning). */
  publicHostIsDefault: boolean;
  /** How {@link publicHost} was chosen (see public-host.ts); absent in hand-made configs. */
  publicHostSource?: PublicHostSource;
  /** SIP over UDP and TCP. 0 = pick a free port. */
  sipPort: number;
  /** SIP over TLS, used only when {@link tls} is set. */
  sipTlsPort: number;
  /** HTTP + SIP over WebSocket (/sip). */
  httpPort: number;
  /** HTTPS + WSS, used only when {@link tls} is set. */
  httpsPort: number;
  /** Undefined when TLS is off. */
  tls: TlsConfig | undefined;
  sipTrace: boolean;
  logLevel: LogLevel;
  /** The 32-byte server key from HANDSET_SECRET_KEY (never log it); undefined means "use <dataDir>/secret.key". */
  secretKey: Buffer | undefined;
  registrar: RegistrarConfig;
  auth: AuthConfig;
  transport: TransportConfig;
  proxy: ProxyConfig;
  /** STUN/TURN handed to browsers by GET /api/v1/webrtc/ice-servers. */
  ice: IceConfig;
  /** Outgoing mail (password resets). */
  mail: MailConfig;
  /** REDIS_URL: shares live events between the nodes of a cluster; undefined runs single-node. */
  redisUrl: string | undefined;
  /** Cluster settings (used when {@link redisUrl} is set). */
  cluster: ClusterConfig;
  /** Softphone provisioning (the SessionTalk endpoint). */
  provisioning: ProvisioningConfig;
  /** HANDSET_PARALLEL_SCAVENGE: V8's young-generation collector on worker threads (see runtime-tuning.ts). */
  parallelScavenge: ParallelScavengeSetting;
  /** Media anchoring through rtpengine. */
  media: MediaConfig;
  /** Who may read GET /metrics (HANDSET_METRICS_ALLOW, HANDSET_METRICS_TOKEN). */
  metrics: MetricsAccessConfig;
}

/** How this node takes part in a cluster (REDIS_URL). */
export interface ClusterConfig {
  /** HANDSET_NODE_ID; undefined: derived once and kept in `<dataDir>/node-id`. */
  nodeId: string | undefined;
  /** HANDSET_REDIS_PREFIX: every Redis key and channel of this cluster starts with it (default `handset:`). */
  redisPrefix: string;
  /** HANDSET_CLUSTER_HEARTBEAT_MS: how often a node says it is alive; it is taken for dead after 3 missed beats. */
  heartbeatMs: number;
}

/** Limits of the public provisioning endpoint. */
export interface ProvisioningConfig {
  /**
   * Provisioning requests a minute per source address (HANDSET_PROVISION_RATE_LIMIT, default 60);
   * 0 turns the limit off. SessionCloud calls from a few addresses for a whole app fleet.
   */
  rateLimitPerMinute: number;
}

/** SMTP for outgoing mail; no URL means no mail is sent. */
export interface MailConfig {
  /** `smtp://user:pass@host:port` or `smtps://...` (HANDSET_SMTP_URL; holds a password, never log it). */
  smtpUrl: string | undefined;
  /** The From address (HANDSET_MAIL_FROM). */
  from: string;
}

const port = z.coerce
  .number({ error: 'must be a port number' })
  .int('must be an integer port')
  .min(0, 'must be a port 0-65535')
  .max(65535, 'must be a port 0-65535');

const wholeNumber = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
const positiveInt = (max: number) => wholeNumber(1, max);

/** A comma-separated list, entries trimmed, empty ones dropped. */
function commaList(s: string): string[] {
  return s
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
}

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off']);
const flag = z.string().transform((v, ctx) => {
  const w = v.toLowerCase();
  if (TRUE_WORDS.has(w)) return true;
  if (FALSE_WORDS.has(w)) return false;
  ctx.addIssue({ code: 'custom', message: 'must be 1 or 0' });
  return z.NEVER;
});

const bindAddress = z.string().refine((v) => isIP(v) !== 0, 'must be an IPv4 or IPv6 address');

const publicHost = z
  .string()
  .refine(
    (v) =>
      isIP(v) !== 0 ||
      /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(v),
    'must be a hostname or IP address',
  );

const databaseUrl = z.string().transform((v, ctx): DatabaseConfig => {
  if (v === 'memory://') return { kind: 'pglite', dir: undefined };
  if (/^postgres(ql)?:\/\//i.test(v)) {
    try {
      new URL(v);
      return { kind: 'postgres', url: v };
    } catch {
      /* falls through to the issue below */
    }
  }
  ctx.addIssue({ code: 'custom', message: 'must be a postgres:// or postgresql:// URL (or memory://)' });
  return z.NEVER;
});

/** A URL of one of `schemes` (without `:`) that names a host. */
const urlWithScheme = (schemes: readonly string[]) =>
  z.string().refine(
    (v) => {
      try {
        const u = new URL(v);
        return schemes.includes(u.protocol.slice(0, -1)) && u.hostname !== '';
      } catch {
        return false;
      }
    },
    `must be a ${schemes.map((s) => `${s}://`).join(' or ')} URL with a host`,
  );

const secretKey = z.string().transform((v, ctx) => {
  const key = decodeKey(v);
  if (key) return key;
  ctx.addIssue({ code: 'custom', message: 'must be 32 bytes as 64 hex digits or base64' });
  return z.NEVER;
});

/**
 * One entry per environment variable: the schema that parses it and its default.
 * Empty strings count as unset (docker-compose style `VAR=`).
 */
const envSchema = z
  .object({
    HANDSET_DATA_DIR: z.string().default('./data'),
    DATABASE_URL: databaseUrl.optional(),
    HANDSET_BIND: bindAddress.default('0.0.0.0'),
    HANDSET_SIP_PORT: port.default(5060),
    HANDSET_SIP_TLS_PORT: port.default(5061),
    HANDSET_TLS_CERT: z.string().optional(),
    HANDSET_TLS_KEY: z.string().optional(),
    HANDSET_TLS: z.enum(['self-signed', 'off'], { error: 'must be "self-signed" or "off"' }).optional(),
    HANDSET_HTTP_PORT: port.default(8080),
    HANDSET_HTTPS_PORT: port.default(8443),
    HANDSET_PUBLIC_HOST: publicHost.optional(),
    HANDSET_SIP_TRACE: flag.default(false),
    HANDSET_LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    HANDSET_SECRET_KEY: secretKey.optional(),
    HANDSET_REG_MIN_EXPIRES: positiveInt(86_400).default(60),
    HANDSET_REG_MAX_EXPIRES: positiveInt(7 * 86_400).default(3600),
    HANDSET_REG_DEFAULT_EXPIRES: positiveInt(7 * 86_400).default(3600),
    HANDSET_REG_MAX_CONTACTS: positiveInt(1000).default(10),
    HANDSET_AUTH_MAX_FAILURES: positiveInt(1_000_000).default(10),
    HANDSET_AUTH_WINDOW_S: positiveInt(86_400).default(60),
    HANDSET_AUTH_BLOCK_S: positiveInt(7 * 86_400).default(300),
    HANDSET_NONCE_TTL_S: positiveInt(86_400).default(300),
    HANDSET_DIGEST_ALGORITHMS: z
      .string()
      .default('MD5')
      .transform((s) => s.split(',').map((a) => a.trim().toUpperCase()))
      .pipe(
        z
          .array(
            z.enum(['MD5', 'SHA-256', 'SHA-512-256'], {
              message: 'must list MD5, SHA-256 or SHA-512-256, comma-separated',
            }),
          )
          .min(1),
      ),
    HANDSET_MAX_CONNECTIONS_PER_IP: positiveInt(1_000_000).default(64),
    HANDSET_MAX_MESSAGE_SIZE: positiveInt(16 * 1024 * 1024).default(65535),
    HANDSET_IDLE_TIMEOUT_S: positiveInt(86_400).default(120),
    HANDSET_RING_TIMEOUT_S: positiveInt(86_400).default(60),
    HANDSET_DIALOG_TIMEOUT_S: positiveInt(7 * 86_400).default(14_400),
    HANDSET_SMTP_URL: urlWithScheme(['smtp', 'smtps']).optional(),
    REDIS_URL: urlWithScheme(['redis', 'rediss']).optional(),
    HANDSET_NODE_ID: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, dot, dash or underscore')
      .optional(),
    HANDSET_REDIS_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:._-]{1,64}$/, 'must be 1-64 letters, digits, colon, dot, dash or underscore')
      .default('handset:'),
    HANDSET_CLUSTER_HEARTBEAT_MS: positiveInt(60_000).default(1000),
    HANDSET_MAIL_FROM: z
      .string()
      .regex(/^([^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/, 'must be an address, or Name <address>')
      .default('Handset <handset@localhost>'),
    HANDSET_TURN_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    HANDSET_TURN_URLS: z
      .string()
      .transform(commaList)
      .pipe(
        z.array(
          z.string().regex(/^(stuns?|turns?):[^\s,]+$/i, 'must list stun:, turn: or turns: URLs, comma-separated'),
        ),
      )
      .optional(),
    HANDSET_TURN_TTL_S: positiveInt(7 * 86_400).default(86_400),
    HANDSET_PROVISION_RATE_LIMIT: wholeNumber(0, 10_000_000).default(60),
    HANDSET_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    HANDSET_METRICS_ALLOW: z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((a) => a.trim())
          .filter((a) => a !== ''),
      )
      .pipe(
        z.array(
          z
            .string()
            .refine((a) => parseAllowEntry(a) !== undefined, 'must list addresses or CIDR ranges, comma-separated'),
        ),
      )
      .optional(),
    HANDSET_PARALLEL_SCAVENGE: z
      .enum(['auto', 'on', 'off'], { error: 'must be "auto", "on" or "off"' })
      .default('auto'),
    HANDSET_MEDIA_ANCHOR: z
      .enum(['auto', 'always', 'never'], { error: 'must be "auto", "always" or "never"' })
      .default('auto'),
    HANDSET_RTPENGINE: z
      .string()
      .transform(commaList)
      .pipe(
        z
          .array(
            z
              .string()
              .regex(
                /^(udp:)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/,
                'must list udp:host:port entries (rtpengine ng ports), comma-separated',
              )
              .transform((u) => {
                const m = /^(?:udp:)?\[?([^\]]+?)\]?:(\d+)$/.exec(u)!;
                return { host: m[1]!, port: Number(m[2]) };
              })
              .refine((a) => a.port > 0 && a.port < 65536, 'must name a port 1-65535'),
          )
          .min(1),
      )
      .optional(),
    HANDSET_RTPENGINE_BIN: z.string().default('rtpengine'),
    HANDSET_RTP_PORT_MIN: wholeNumber(1024, 65535).default(30000),
    HANDSET_RTP_PORT_MAX: wholeNumber(1024, 65535).default(40000),
    HANDSET_RTP_ADDRESS: bindAddress.optional(),
    HANDSET_UDP_IO_THREAD: z
      .enum(['auto', 'on', 'worker', 'off'], { error: 'must be "auto", "on", "worker" or "off"' })
      .default('auto'),
  })
  .superRefine((e, ctx) => {
    if (e.HANDSET_REG_MIN_EXPIRES > e.HANDSET_REG_MAX_EXPIRES) {
      ctx.addIssue({
        code: 'custom',
        path: ['HANDSET_REG_MIN_EXPIRES'],
        message: `must not exceed HANDSET_REG_MAX_EXPIRES (${e.HANDSET_REG_MAX_EXPIRES})`,
      });
    }
    if (
      e.HANDSET_REG_DEFAULT_EXPIRES < e.HANDSET_REG_MIN_EXPIRES ||
      e.HANDSET_REG_DEFAULT_EXPIRES > e.HANDSET_REG_MAX_EXPIRES
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['HANDSET_REG_DEFAULT_EXPIRES'],
        message: `must lie between HANDSET_REG_MIN_EXPIRES (${e.HANDSET_REG_MIN_EXPIRES}) and HANDSET_REG_MAX_EXPIRES (${e.HANDSET_REG_MAX_EXPIRES})`,
      });
    }
    if ((e.HANDSET_TLS_CERT === undefined) !== (e.HANDSET_TLS_KEY === undefined)) {
      const missing = e.HANDSET_TLS_CERT === undefined ? 'HANDSET_TLS_CERT' : 'HANDSET_TLS_KEY';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: 'must be set together with HANDSET_TLS_CERT and HANDSET_TLS_KEY',
      });
    }
    if (e.HANDSET_TURN_URLS?.some((u) => /^turns?:/i.test(u)) && e.HANDSET_TURN_SECRET === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['HANDSET_TURN_SECRET'],
        message: 'must be set when HANDSET_TURN_URLS lists turn: or turns: URLs (coturn static-auth-secret)',
      });
    }
    if (e.HANDSET_RTP_PORT_MAX - e.HANDSET_RTP_PORT_MIN < 3) {
      ctx.addIssue({
        code: 'custom',
        path: ['HANDSET_RTP_PORT_MAX'],
        message: `must be at least 4 above HANDSET_RTP_PORT_MIN (${e.HANDSET_RTP_PORT_MIN}): a call takes 4 ports`,
      });
    }
    if (e.HANDSET_TLS === 'self-signed' && e.HANDSET_TLS_CERT !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['HANDSET_TLS'],
        message: 'self-signed cannot be combined with HANDSET_TLS_CERT/HANDSET_TLS_KEY',
      });
    }
  });

/**
 * Reads and validates the server settings from the environment.
 *
 * HANDSET_PUBLIC_HOST defaults to the bind address when that is a specific address, and to the
 * host's first non-loopback interface address when binding to every interface (0.0.0.0 or ::);
 * `handset start` then refines it with the address of the default route (detectPublicHost).
 * `publicHostIsDefault` lets the caller say it is a guess. DATABASE_URL=memory:// selects an in-memory
 * PGlite (tests). Throws a {@link ConfigError} naming every bad variable.
 */
export function loadServerConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ServerConfig {
  const input: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v.trim() !== '') input[key] = v.trim();
  }
  const parsed = envSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? 'environment');
      const got = input[name];
      const shown =
        got === undefined ||
        [
          'HANDSET_SECRET_KEY',
          'HANDSET_TURN_SECRET',
          'HANDSET_METRICS_TOKEN',
          'DATABASE_URL',
          'HANDSET_SMTP_URL',
          'REDIS_URL',
        ].includes(name)
          ? ''
          : ` (got "${got}")`;
      return `${name} ${i.message}${shown}`;
    });
    throw new ConfigError('INVALID_ENV', `invalid configuration: ${lines.join('; ')}`);
  }
  const e = parsed.data;
  const dataDir = resolve(cwd, e.HANDSET_DATA_DIR);
  let tls: TlsConfig | undefined;
  if (e.HANDSET_TLS_CERT !== undefined && e.HANDSET_TLS_KEY !== undefined) {
    tls = { source: 'files', certPath: resolve(cwd, e.HANDSET_TLS_CERT), keyPath: resolve(cwd, e.HANDSET_TLS_KEY) };
  } else if (e.HANDSET_TLS === 'self-signed') {
    tls = {
      source: 'self-signed',
      certPath: resolve(dataDir, 'tls', 'cert.pem'),
      keyPath: resolve(dataDir, 'tls', 'key.pem'),
    };
  }
  const guess = guessPublicHost(e.HANDSET_BIND);
  return {
    dataDir,
    database: e.DATABASE_URL ?? { kind: 'pglite', dir: resolve(dataDir, 'db') },
    bind: e.HANDSET_BIND,
    publicHost: e.HANDSET_PUBLIC_HOST ?? guess.host,
    publicHostIsDefault: e.HANDSET_PUBLIC_HOST === undefined,
    publicHostSource: e.HANDSET_PUBLIC_HOST === undefined ? guess.source : 'environment',
    sipPort: e.HANDSET_SIP_PORT,
    sipTlsPort: e.HANDSET_SIP_TLS_PORT,
    httpPort: e.HANDSET_HTTP_PORT,
    httpsPort: e.HANDSET_HTTPS_PORT,
    tls,
    sipTrace: e.HANDSET_SIP_TRACE,
    logLevel: e.HANDSET_LOG_LEVEL,
    secretKey: e.HANDSET_SECRET_KEY,
    registrar: {
      minExpires: e.HANDSET_REG_MIN_EXPIRES,
      maxExpires: e.HANDSET_REG_MAX_EXPIRES,
      defaultExpires: e.HANDSET_REG_DEFAULT_EXPIRES,
      maxContacts: e.HANDSET_REG_MAX_CONTACTS,
    },
    auth: {
      maxFailures: e.HANDSET_AUTH_MAX_FAILURES,
      windowS: e.HANDSET_AUTH_WINDOW_S,
      blockS: e.HANDSET_AUTH_BLOCK_S,
      nonceTtlS: e.HANDSET_NONCE_TTL_S,
      digestAlgorithms: [...new Set(e.HANDSET_DIGEST_ALGORITHMS)] as DigestAlgorithmName[],
    },
    transport: {
      maxConnectionsPerIp: e.HANDSET_MAX_CONNECTIONS_PER_IP,
      maxMessageSize: e.HANDSET_MAX_MESSAGE_SIZE,
      idleTimeoutS: e.HANDSET_IDLE_TIMEOUT_S,
      udpIoThread: e.HANDSET_UDP_IO_THREAD,
    },
    proxy: {
      ringTimeoutS: e.HANDSET_RING_TIMEOUT_S,
      dialogTimeoutS: e.HANDSET_DIALOG_TIMEOUT_S,
    },
    ice: { urls: e.HANDSET_TURN_URLS ?? [], turnSecret: e.HANDSET_TURN_SECRET, turnTtlS: e.HANDSET_TURN_TTL_S },
    mail: { smtpUrl: e.HANDSET_SMTP_URL, from: e.HANDSET_MAIL_FROM },
    redisUrl: e.REDIS_URL,
    cluster: {
      nodeId: e.HANDSET_NODE_ID,
      redisPrefix: e.HANDSET_REDIS_PREFIX,
      heartbeatMs: e.HANDSET_CLUSTER_HEARTBEAT_MS,
    },
    provisioning: { rateLimitPerMinute: e.HANDSET_PROVISION_RATE_LIMIT },
    parallelScavenge: e.HANDSET_PARALLEL_SCAVENGE,
    media: {
      anchor: e.HANDSET_MEDIA_ANCHOR,
      rtpengines: e.HANDSET_RTPENGINE,
      binary: e.HANDSET_RTPENGINE_BIN,
      portMin: e.HANDSET_RTP_PORT_MIN,
      portMax: e.HANDSET_RTP_PORT_MAX,
      rtpAddress: e.HANDSET_RTP_ADDRESS,
    },
    metrics: { allow: e.HANDSET_METRICS_ALLOW ?? LOOPBACK_ONLY, token: e.HANDSET_METRICS_TOKEN },
  };
}
