import { createHmac } from 'node:crypto';

/** What the ICE server endpoint serves: STUN/TURN URLs and, for TURN, the shared secret. */
export interface IceConfig {
  /** stun:, turn: and turns: URLs from HANDSET_TURN_URLS (empty: host candidates only). */
  urls: string[];
  /** coturn's `static-auth-secret` (HANDSET_TURN_SECRET); required for turn:/turns: URLs. */
  turnSecret: string | undefined;
  /** Lifetime of issued TURN credentials (HANDSET_TURN_TTL_S). */
  turnTtlS: number;
}

/** One entry of RTCConfiguration.iceServers. */
export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

const isTurn = (u: string) => /^turns?:/i.test(u);

/**
 * Issues TURN REST API credentials (draft-uberti-behave-turn-rest, coturn `use-auth-secret`):
 * username `<expiry unix time>:<user>`, credential base64(HMAC-SHA1(secret, username)). coturn
 * recomputes the HMAC and refuses the username once its time has passed, so nothing is stored.
 */
export class TurnCredentials {
  constructor(
    private readonly config: IceConfig,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The iceServers for `user`: STUN as is, TURN with fresh credentials (none without a secret). */
  iceServersFor(user: string): IceServer[] {
    const stun = this.config.urls.filter((u) => !isTurn(u));
    const turn = this.config.urls.filter(isTurn);
    const servers: IceServer[] = stun.length > 0 ? [{ urls: stun }] : [];
    if (turn.length > 0 && this.config.turnSecret !== undefined) {
      const expiry = Math.floor(this.clock() / 1000) + this.config.turnTtlS;
      // ':' separates the timestamp in coturn; a user part must not add another one.
      const username = `${expiry}:${user.replace(/:/g, '_')}`;
      const credential = createHmac('sha1', this.config.turnSecret).update(username).digest('base64');
      servers.push({ urls: turn, username, credential });
    }
    return servers;
  }

  /** Seconds the TURN credentials stay valid (clients should refetch before). */
  get ttlS(): number {
    return this.config.turnTtlS;
  }
}
