import { HandsetError } from './handset-error.js';

/** Path of Handset's ICE server endpoint. */
export const ICE_SERVERS_PATH = '/api/v1/webrtc/ice-servers';

/** Options of {@link fetchIceServers}. */
export interface FetchIceServersOptions {
  /** Handset's base URL (https://pbx.example.com). */
  baseUrl: string;
  /** An API token (sent as `Authorization: Bearer`). */
  token: string;
  /** fetch, injected for tests. */
  fetch?: typeof fetch;
  /** Default 5000 ms. */
  timeoutMs?: number;
}

const isIceServer = (v: unknown): v is RTCIceServer => {
  if (typeof v !== 'object' || v === null) return false;
  const urls = (v as { urls?: unknown }).urls;
  return typeof urls === 'string' || (Array.isArray(urls) && urls.every((u) => typeof u === 'string'));
};

/**
 * Fetches `{iceServers}` from Handset (STUN, and TURN with short-lived REST credentials when
 * the server has coturn configured). Pass the result as the phone's `iceServers`.
 */
export async function fetchIceServers(o: FetchIceServersOptions): Promise<RTCIceServer[]> {
  const doFetch = o.fetch ?? globalThis.fetch.bind(globalThis);
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), o.timeoutMs ?? 5000);
  try {
    const res = await doFetch(new URL(ICE_SERVERS_PATH, o.baseUrl), {
      headers: { authorization: `Bearer ${o.token}` },
      signal: ctl.signal,
    });
    if (!res.ok) throw HandsetError.connectionFailed(`ICE servers: HTTP ${res.status}`);
    const body = (await res.json()) as { iceServers?: unknown };
    if (!Array.isArray(body.iceServers) || !body.iceServers.every(isIceServer))
      throw HandsetError.connectionFailed('ICE servers: malformed answer');
    return body.iceServers;
  } catch (err) {
    if (err instanceof HandsetError) throw err;
    throw HandsetError.connectionFailed(`ICE servers: ${String(err)}`);
  } finally {
    clearTimeout(timer);
  }
}
