import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { DirectoryError } from '../directory/directory-error.js';
import type { Principal } from '../directory/principal.js';
import { secretToken } from '../directory/secret-token.js';
import type { SessionService } from '../directory/session-service.js';
import type { TokenService } from '../directory/token-service.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by {@link ApiAuthenticator.preHandler} on authenticated routes. */
    principal?: Principal;
  }
}

/** Longest bearer secret looked at (ours are 47 characters); longer ones are refused unread. */
const MAX_TOKEN_LENGTH = 200;

/**
 * Turns a bearer secret (API token or login session token) into the {@link Principal} it
 * stands for. The preHandler reads `Authorization: Bearer <t>` or a `token` header (the
 * Phonenet Client API's) and answers 401 when neither names a live credential.
 */
export class ApiAuthenticator {
  constructor(private readonly o: { tokens: TokenService; sessions: SessionService }) {}

  /** The principal of a session or API token, or undefined when unknown, revoked or expired. */
  async authenticateToken(token: string): Promise<Principal | undefined> {
    if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return undefined;
    switch (secretToken.kindOf(token)) {
      case 'api':
        return this.o.tokens.resolve(token);
      case 'session':
        return this.o.sessions.resolve(token);
      default:
        return undefined;
    }
  }

  /** The secret a request presents, if any. */
  static tokenOf(request: FastifyRequest): string | undefined {
    const auth = request.headers.authorization;
    if (typeof auth === 'string') {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
      if (m) return m[1];
    }
    const header = request.headers.token;
    return typeof header === 'string' && header.length > 0 ? header.trim() : undefined;
  }

  /** Fastify preHandler: sets `request.principal` or fails with 401. */
  readonly preHandler: preHandlerAsyncHookHandler = async (request: FastifyRequest, _reply: FastifyReply) => {
    const token = ApiAuthenticator.tokenOf(request);
    if (token === undefined)
      throw new DirectoryError(
        'UNAUTHENTICATED',
        'sign in first: send Authorization: Bearer <token> or a token header',
      );
    const principal = await this.authenticateToken(token);
    if (!principal) throw new DirectoryError('UNAUTHENTICATED', 'invalid, revoked or expired token');
    request.principal = principal;
  };
}

/** The principal of an authenticated request (routes behind the preHandler). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new DirectoryError('UNAUTHENTICATED', 'not signed in');
  return request.principal;
}
