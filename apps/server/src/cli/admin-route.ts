import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { DIRECTORY_ERROR_STATUS } from '../api/api-errors.js';
import { DirectoryError, type DirectoryErrorCode } from '../directory/directory-error.js';
import type { DirectoryService } from '../directory/directory-service.js';
import type { DirectoryServices } from '../directory/directory-services.js';
import type { CdrRepository } from '../proxy/cdr-repository.js';
import type { ActivationCodeService } from '../provisioning/activation-code-service.js';
import { ProvisioningError } from '../provisioning/provisioning-error.js';
import type { DeskPhones } from '../provisioning/desk/desk-wiring.js';
import { executeAdminCommand, parseAdminCommand } from './admin-commands.js';

/** Path of the CLI's endpoint on a running server. */
export const ADMIN_PATH = '/internal/admin';
/** Header carrying the token from the run file. */
export const ADMIN_TOKEN_HEADER = 'x-handset-admin';

/** Options for {@link registerAdminRoute}. */
export interface AdminRouteOptions {
  /** The secret written to the run file; only a process that can read the data dir knows it. */
  token: string;
  directory: DirectoryService;
  cdrs: CdrRepository;
  activations?: ActivationCodeService;
  /** The principal-checked directory services (users with roles, groups, tokens, superadmins). */
  services?: DirectoryServices;
  /** Desk phones (`devices ...`, and check-sync after `settings set`). */
  desk?: DeskPhones;
  /** Largest request body (a user import travels inside); default 32 MiB. */
  bodyLimit?: number;
}

// The CLI reports a malformed command as 400 (the REST API says 422 for bad field values).
const STATUS: Record<DirectoryErrorCode, number> = { ...DIRECTORY_ERROR_STATUS, INVALID_INPUT: 400 };

/**
 * Adds `POST /internal/admin`, through which the CLI runs commands while the server holds the
 * embedded database. Accepted only from a loopback address and with the run file's token
 * (compared in constant time). Body: `{command, args}`; answers the command's result, or
 * `{error: {code, message, line?}}` with a 4xx status.
 */
export function registerAdminRoute(app: FastifyInstance, opts: AdminRouteOptions): void {
  const expected = digest(opts.token);
  app.post(ADMIN_PATH, { bodyLimit: opts.bodyLimit ?? 32 << 20 }, async (request, reply) => {
    if (!isLoopback(request.socket.remoteAddress)) {
      return fail(reply, 403, 'FORBIDDEN', 'the admin endpoint only answers loopback clients');
    }
    const header = request.headers[ADMIN_TOKEN_HEADER];
    if (typeof header !== 'string' || !timingSafeEqual(digest(header), expected)) {
      return fail(reply, 401, 'UNAUTHORIZED', 'missing or wrong admin token');
    }
    try {
      return await executeAdminCommand({ ...opts, running: true }, parseAdminCommand(request.body));
    } catch (err) {
      if (err instanceof DirectoryError) {
        return fail(reply, STATUS[err.code], err.code, err.message, err.line);
      }
      if (err instanceof ProvisioningError)
        return fail(reply, err.code === 'NOT_FOUND' ? 404 : err.code === 'CONFLICT' ? 409 : 422, err.code, err.message);
      throw err;
    }
  });
}

function fail(reply: FastifyReply, status: number, code: string, message: string, line?: number): FastifyReply {
  return reply.status(status).send({ error: { code, message, ...(line === undefined ? {} : { line }) } });
}

/** Hashing both sides gives equal-length buffers, so timingSafeEqual never leaks the length. */
function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}
