import type { Call } from '../call.js';
import { ErrorReason, HandsetError } from '../handset-error.js';
import type { Phone } from '../phone.js';
import {
  EMBED_TAG,
  EMBED_VERSION,
  parseConfig,
  parseRequest,
  type CallSnapshot,
  type EmbedConfig,
  type EmbedEvent,
  type EmbedRequest,
  type PhoneSnapshot,
} from './embed-protocol.js';

/** Options of {@link exposeToParent}. */
export interface ExposeOptions {
  /** Exact origins of the pages allowed to drive this phone ('https://crm.example.com'); never '*'. */
  allowedOrigins: readonly string[];
  /** This frame's window (default `window`). */
  self?: Pick<Window, 'addEventListener' | 'removeEventListener'>;
  /** The embedding window (default `window.parent`). */
  parent?: Pick<Window, 'postMessage'>;
}

/** The phone behind the embed: a ready one, or a factory `configure` calls. */
export type PhoneSource = Phone | ((config: EmbedConfig) => Phone);

const snapshot = (c: Call): CallSnapshot => ({
  id: c.id,
  callId: c.callId,
  direction: c.direction,
  remoteUri: c.remoteUri,
  remoteDisplayName: c.remoteDisplayName ?? null,
  state: c.state,
  video: c.video,
  hold: { ...c.holdState },
  muted: { ...c.muteState },
});

const str = (v: unknown, what: string, max = 256): string => {
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    throw HandsetError.invalidArgument(`${what} must be a string`);
  return v;
};

/**
 * The iframe side of the embed: answers the parent's requests on `phone` and forwards its events.
 * Only messages from `window.parent` on an allowed origin are read; replies and events go only
 * to allowed origins. Returns the function that stops it.
 */
export function exposeToParent(source: PhoneSource, o: ExposeOptions): () => void {
  const allowed = new Set(o.allowedOrigins);
  if (allowed.size === 0 || allowed.has('*') || [...allowed].some((a) => !/^https?:\/\/[^/]+$/.test(a)))
    throw HandsetError.invalidArgument('allowedOrigins must list exact origins like https://app.example.com');
  const self = o.self ?? window;
  const parent = o.parent ?? window.parent;
  let phone: Phone | undefined = typeof source === 'function' ? undefined : source;
  let unwire: () => void = () => undefined;

  const post = (msg: Record<string, unknown>, origin?: string) => {
    const full = { tag: EMBED_TAG, v: EMBED_VERSION, ...msg };
    // A target origin per allowed parent: the browser drops a message whose origin does not match.
    for (const target of origin ? [origin] : allowed) parent.postMessage(full, target);
  };
  const event = (name: EmbedEvent, data: unknown) => post({ kind: 'event', event: name, data });

  const wire = (p: Phone) => {
    const offs = [
      p.on('registrationStateChanged', (s) => event('registration', { state: s })),
      p.on('connectionStateChanged', (s) => event('connection', { state: s })),
      p.on('callAdded', (c) => {
        c.on('stateChanged', () => event('call', snapshot(c)));
        c.on('hold', () => event('call', snapshot(c)));
        c.on('mute', () => event('call', snapshot(c)));
        c.on('dtmf', (d) => event('dtmf', { callId: c.id, tone: d.tone }));
        event('call', snapshot(c));
      }),
      p.on('incoming', (c) => event('incoming', snapshot(c))),
      p.on('callEnded', (_c, record) =>
        event('cdr', {
          ...record,
          remoteDisplayName: record.remoteDisplayName ?? null,
          answeredAt: record.answeredAt ?? null,
          end: { ...record.end, statusCode: record.end.statusCode ?? null },
        }),
      ),
    ];
    return () => offs.forEach((off) => off());
  };
  if (phone) unwire = wire(phone);

  const need = (): Phone => {
    if (!phone) throw HandsetError.invalidState('use the phone', 'unconfigured (call configure first)');
    return phone;
  };
  const findCall = (id: unknown): Call => {
    const calls = need().calls;
    const call = id === undefined || id === null ? calls[calls.length - 1] : calls.find((c) => c.id === id);
    if (!call) throw HandsetError.invalidState('find the call', typeof id === 'string' ? `no call ${id}` : 'no call');
    return call;
  };
  const state = (): PhoneSnapshot => ({
    configured: phone !== undefined,
    registration: phone?.registrationState ?? 'unregistered',
    connection: phone?.connectionState ?? 'disconnected',
    calls: phone?.calls.map(snapshot) ?? [],
  });
  const opts = (v: unknown): Record<string, unknown> =>
    typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};

  async function run(r: EmbedRequest): Promise<unknown> {
    const [a, b] = r.params;
    switch (r.method) {
      case 'configure': {
        if (typeof source !== 'function') throw HandsetError.invalidState('configure', 'phone provided by the page');
        const config = parseConfig(a);
        if (!config) throw HandsetError.invalidArgument('configure needs {server, uri, password}');
        unwire();
        phone?.close();
        phone = source(config);
        unwire = wire(phone);
        return state();
      }
      case 'register':
        await need().register();
        return state();
      case 'unregister':
        await need().unregister();
        return state();
      case 'call': {
        const c = await need().call(str(a, 'target'), { video: opts(b).video === true });
        return snapshot(c);
      }
      case 'answer': {
        const c = findCall(opts(a).callId);
        await c.answer({ video: opts(a).video === false ? false : undefined });
        return snapshot(c);
      }
      case 'reject':
        findCall(opts(a).callId).reject();
        return null;
      case 'hangup':
        findCall(opts(a).callId).hangup();
        return null;
      case 'hold':
        findCall(opts(a).callId).hold();
        return null;
      case 'unhold':
        findCall(opts(a).callId).unhold();
        return null;
      case 'mute':
        findCall(opts(a).callId).mute({ audio: opts(a).audio !== false, video: opts(a).video === true });
        return null;
      case 'unmute':
        findCall(opts(a).callId).unmute({ audio: opts(a).audio !== false, video: opts(a).video === true });
        return null;
      case 'sendDTMF': {
        const transport = opts(b).transport === 'info' ? 'info' : 'rfc4733';
        findCall(opts(b).callId).sendDTMF(str(a, 'tones', 64), { transport });
        return null;
      }
      case 'transfer':
        await findCall(opts(b).callId).transfer(str(a, 'target'));
        return null;
      case 'getState':
        return state();
    }
  }

  const onMessage = (ev: MessageEvent) => {
    // Both checks: the origin (who) and the source (that it is our embedder, not a sibling frame).
    if (!allowed.has(ev.origin) || ev.source !== (parent as unknown)) return;
    const req = parseRequest(ev.data);
    if (!req) return;
    run(req).then(
      (result) => post({ kind: 'response', id: req.id, ok: true, result: result ?? null }, ev.origin),
      (err: unknown) => {
        const e = err instanceof HandsetError ? err : new HandsetError(ErrorReason.InvalidState, String(err));
        post({ kind: 'response', id: req.id, ok: false, error: { reason: e.reason, message: e.message } }, ev.origin);
      },
    );
  };
  self.addEventListener('message', onMessage as EventListener);
  post({ kind: 'ready' });
  return () => {
    self.removeEventListener('message', onMessage as EventListener);
    unwire();
  };
}
