/**
 * The postMessage protocol between a page that embeds the web phone (`mount`) and the phone in
 * the iframe (`exposeToParent`). Every message is checked here before anyone acts on it.
 */

/** Marks Handset messages among whatever else a page posts. */
export const EMBED_TAG = 'handset-embed';
/** Protocol version; a peer speaking another one is ignored. */
export const EMBED_VERSION = 1;

/** Methods the parent may call (everything else is refused). */
export const EMBED_METHODS = [
  'configure',
  'register',
  'unregister',
  'call',
  'answer',
  'reject',
  'hangup',
  'hold',
  'unhold',
  'mute',
  'unmute',
  'sendDTMF',
  'transfer',
  'getState',
] as const;

/** One of {@link EMBED_METHODS}. */
export type EmbedMethod = (typeof EMBED_METHODS)[number];

/** Events the phone sends to the parent. */
export const EMBED_EVENTS = ['registration', 'connection', 'incoming', 'call', 'cdr', 'dtmf'] as const;

/** One of {@link EMBED_EVENTS}. */
export type EmbedEvent = (typeof EMBED_EVENTS)[number];

/** Parent to iframe: call a method. */
export interface EmbedRequest {
  readonly tag: typeof EMBED_TAG;
  readonly v: typeof EMBED_VERSION;
  readonly kind: 'request';
  readonly id: number;
  readonly method: EmbedMethod;
  readonly params: readonly unknown[];
}

/** Iframe to parent: the outcome of a request. */
export type EmbedResponse = {
  readonly tag: typeof EMBED_TAG;
  readonly v: typeof EMBED_VERSION;
  readonly kind: 'response';
  readonly id: number;
} & (
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: { reason: string; message: string } }
);

/** Iframe to parent: something happened. */
export interface EmbedEventMessage {
  readonly tag: typeof EMBED_TAG;
  readonly v: typeof EMBED_VERSION;
  readonly kind: 'event';
  readonly event: EmbedEvent;
  readonly data: unknown;
}

/** Iframe to parent: the phone is listening. */
export interface EmbedReady {
  readonly tag: typeof EMBED_TAG;
  readonly v: typeof EMBED_VERSION;
  readonly kind: 'ready';
}

/** Anything the iframe sends. */
export type EmbedFromPhone = EmbedResponse | EmbedEventMessage | EmbedReady;

/** Largest message accepted either way (serialized), so a hostile peer cannot make us chew megabytes. */
export const EMBED_MAX_MESSAGE = 64 * 1024;
const MAX_PARAMS = 4;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Plain JSON data only (structured clone could carry Blobs, ports, cyclic graphs). */
function isPlainData(v: unknown, depth = 0): boolean {
  if (depth > 6) return false;
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.length <= 64 && v.every((x) => isPlainData(x, depth + 1));
  if (isObject(v) && Object.getPrototypeOf(v) === Object.prototype)
    return Object.keys(v).length <= 64 && Object.values(v).every((x) => isPlainData(x, depth + 1));
  return false;
}

function sizeOk(v: unknown): boolean {
  try {
    return JSON.stringify(v).length <= EMBED_MAX_MESSAGE;
  } catch {
    return false;
  }
}

const isEnvelope = (v: unknown): v is Record<string, unknown> =>
  isObject(v) && v.tag === EMBED_TAG && v.v === EMBED_VERSION;

/** The request in `data`, or undefined when it is not a well-formed one. */
export function parseRequest(data: unknown): EmbedRequest | undefined {
  if (!isEnvelope(data) || data.kind !== 'request') return undefined;
  const { id, method, params } = data;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) return undefined;
  if (typeof method !== 'string' || !(EMBED_METHODS as readonly string[]).includes(method)) return undefined;
  if (!Array.isArray(params) || params.length > MAX_PARAMS || !isPlainData(params) || !sizeOk(data)) return undefined;
  return data as unknown as EmbedRequest;
}

/** The phone's message in `data`, or undefined when it is not a well-formed one. */
export function parseFromPhone(data: unknown): EmbedFromPhone | undefined {
  if (!isEnvelope(data) || !isPlainData(data) || !sizeOk(data)) return undefined;
  if (data.kind === 'ready') return data as unknown as EmbedReady;
  if (data.kind === 'event') {
    return typeof data.event === 'string' && (EMBED_EVENTS as readonly string[]).includes(data.event)
      ? (data as unknown as EmbedEventMessage)
      : undefined;
  }
  if (data.kind === 'response') {
    if (typeof data.id !== 'number' || typeof data.ok !== 'boolean') return undefined;
    if (data.ok === false) {
      const e = data.error;
      if (!isObject(e) || typeof e.reason !== 'string' || typeof e.message !== 'string') return undefined;
    }
    return data as unknown as EmbedResponse;
  }
  return undefined;
}

/** What `configure` accepts: where and as whom the phone registers. */
export interface EmbedConfig {
  readonly server: string;
  readonly uri: string;
  readonly password: string;
  readonly displayName?: string;
  readonly iceServers?: RTCIceServer[];
}

/** The config in `v`, or undefined when it is malformed. */
export function parseConfig(v: unknown): EmbedConfig | undefined {
  if (!isObject(v)) return undefined;
  const { server, uri, password, displayName, iceServers } = v;
  if (typeof server !== 'string' || typeof uri !== 'string' || typeof password !== 'string') return undefined;
  if (server.length > 1024 || uri.length > 256 || password.length > 256) return undefined;
  if (displayName !== undefined && (typeof displayName !== 'string' || displayName.length > 128)) return undefined;
  if (
    iceServers !== undefined &&
    !(
      Array.isArray(iceServers) &&
      iceServers.every(
        (s) =>
          isObject(s) &&
          (typeof s.urls === 'string' || (Array.isArray(s.urls) && s.urls.every((u) => typeof u === 'string'))),
      )
    )
  )
    return undefined;
  return v as unknown as EmbedConfig;
}

/** A call as the parent sees it. */
export interface CallSnapshot {
  readonly id: string;
  readonly callId: string;
  readonly direction: 'incoming' | 'outgoing';
  readonly remoteUri: string;
  readonly remoteDisplayName: string | null;
  readonly state: string;
  readonly video: boolean;
  readonly hold: { local: boolean; remote: boolean };
  readonly muted: { audio: boolean; video: boolean };
}

/** The phone's state as `getState` answers it. */
export interface PhoneSnapshot {
  readonly configured: boolean;
  readonly registration: string;
  readonly connection: string;
  readonly calls: CallSnapshot[];
}
