import type { FastifyInstance } from 'fastify';
import type { TurnCredentials } from '../config/turn-credentials.js';

/** Path of the endpoint (the SDK's fetchIceServers uses the same). */
export const ICE_SERVERS_PATH = '/api/v1/webrtc/ice-servers';

/** Who a token stands for, as far as this route needs it (an API Principal fits). */
export interface IceServersCaller {
  readonly userId?: string | undefined;
  readonly email?: string | undefined;
}

/** Options of {@link registerIceServersRoute}. */
export interface IceServersRouteOptions {
  /** Verifies a bearer token (ApiAuthenticator.authenticateToken); undefined means refused. */
  authenticate(token: string): Promise<IceServersCaller | undefined>;
  credentials: TurnCredentials;
}

/** Longest token looked at; longer ones are refused unread. */
const MAX_TOKEN = 200;

/** The bearer secret of `Authorization: Bearer <t>` or a `token` header (the Phonenet style). */
function tokenOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const t = headers.token;
  return typeof t === 'string' && t.trim().length > 0 ? t.trim() : undefined;
}

/**
 * `GET /api/v1/webrtc/ice-servers`: `{iceServers, ttlS}` for the caller's RTCPeerConnection:
 * STUN URLs, and TURN with short-lived REST credentials when a TURN secret is configured.
 * A missing, oversized or unknown token is 401; the answer is never cached by a proxy.
 */
export function registerIceServersRoute(app: FastifyInstance, o: IceServersRouteOptions): void {
  app.get(ICE_SERVERS_PATH, async (request, reply) => {
    const token = tokenOf(request.headers);
    const caller = token === undefined || token.length > MAX_TOKEN ? undefined : await o.authenticate(token);
    if (!caller) {
      return reply
        .status(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: { code: 'UNAUTHENTICATED', message: 'send Authorization: Bearer <token>' } });
    }
    void reply.header('cache-control', 'no-store');
    return {
      iceServers: o.credentials.iceServersFor(caller.userId ?? caller.email ?? 'user'),
      ttlS: o.credentials.ttlS,
    };
  });
}
