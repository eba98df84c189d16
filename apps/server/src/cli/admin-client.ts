import { request } from 'node:http';
import type { AdminCommand, AdminResult } from './admin-commands.js';
import { ADMIN_PATH, ADMIN_TOKEN_HEADER } from './admin-route.js';
import { CliError } from './cli-error.js';
import type { RunInfo } from './run-file.js';

/**
 * Sends a command to the running server named by the run file and returns its result.
 * Uses node:http rather than fetch, which refuses some ports (5060, 5061, ...) outright.
 */
export async function sendAdminCommand(run: RunInfo, command: AdminCommand, timeoutMs = 120_000): Promise<AdminResult> {
  const payload = Buffer.from(JSON.stringify(command), 'utf8');
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: run.httpPort,
        path: ADMIN_PATH,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': payload.length,
          [ADMIN_TOKEN_HEADER]: run.adminToken,
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        new CliError(
          'SERVER_UNREACHABLE',
          `cannot reach the running Handset (pid ${run.pid}) on port ${run.httpPort}: ${err.code ?? err.message}`,
          {
            cause: err,
          },
        ),
      ),
    );
    req.end(payload);
  });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new CliError('REMOTE', `the running Handset answered ${status} without JSON`);
  }
  if (status < 200 || status >= 300) {
    const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
    throw new CliError('REMOTE', typeof message === 'string' ? message : `the running Handset answered ${status}`);
  }
  return body as AdminResult;
}
