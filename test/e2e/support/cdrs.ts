import type { HandsetProcess } from './handset.js';

/** One call detail record as `handset cdrs list --json` prints it. */
export interface Cdr {
  readonly callId: string;
  readonly domain: string;
  readonly caller: string;
  readonly callee: string;
  readonly callerDevice: string | null;
  readonly calleeDevice: string | null;
  readonly startedAt: string;
  readonly answeredAt: string | null;
  readonly endedAt: string | null;
  readonly durationS: number;
  readonly billableS: number;
  readonly disposition: 'answered' | 'busy' | 'no-answer' | 'cancelled' | 'failed';
  readonly sipStatus: number;
}

/** All CDRs of a domain, through the CLI. */
export async function listCdrs(h: Pick<HandsetProcess, 'cli'>, domain: string): Promise<Cdr[]> {
  const out = await h.cli('cdrs', 'list', '--domain', domain, '--json');
  const parsed: unknown = JSON.parse(out);
  if (!Array.isArray(parsed)) throw new Error(`cdrs list --json did not print an array: ${out.slice(0, 500)}`);
  return parsed as Cdr[];
}

/**
 * Polls the CLI until at least `count` CDRs match (CDRs are written when the dialog ends, so they
 * may trail the BYE a little); rejects with everything that was listed if they do not appear in time.
 */
export async function waitForCdrs(
  h: Pick<HandsetProcess, 'cli'>,
  domain: string,
  match: (c: Cdr) => boolean,
  count = 1,
  timeoutMs = 10_000,
): Promise<Cdr[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await listCdrs(h, domain);
    const hits = all.filter(match);
    if (hits.length >= count) return hits;
    if (Date.now() > deadline) {
      throw new Error(
        `expected ${count} matching CDRs in ${domain}, found ${hits.length} of ${all.length}:\n` +
          JSON.stringify(all, null, 1).slice(0, 8_000),
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
