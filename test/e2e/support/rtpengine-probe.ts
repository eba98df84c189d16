import { NgClient } from '../../../apps/server/dist/media/ng-client.js';
import type { HandsetProcess } from './handset.js';

/** The pino lines of a Handset child whose `msg` is `msg`, parsed. */
function logLines(h: HandsetProcess, msg: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of h.output().split('\n')) {
    if (!line.includes(msg)) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      /* not JSON */
    }
  }
  return out;
}

/** The private rtpengine a Handset child started (its log says where and which process). */
export interface PrivateRtpengine {
  /** The process id of the newest rtpengine it started. */
  pid(): number;
  /** Calls rtpengine holds now (ng `list`): 0 once every call ended means no session leaked. */
  sessions(): Promise<number>;
  close(): void;
}

/** Finds the private rtpengine of `h` from its start-up log line. */
export function privateRtpengine(h: HandsetProcess): PrivateRtpengine {
  const running = logLines(h, 'media plane: private rtpengine running')[0];
  const ng = typeof running?.ng === 'string' ? /^udp:([^:]+):(\d+)$/.exec(running.ng) : null;
  if (!ng) throw new Error(`Handset did not start a private rtpengine:\n${h.output().slice(-4000)}`);
  const client = new NgClient({ host: ng[1]!, port: Number(ng[2]), timeoutMs: 1000, retries: 2 });
  return {
    pid() {
      const started = logLines(h, 'started the private rtpengine').at(-1);
      if (typeof started?.pid !== 'number') throw new Error('no rtpengine pid in the log');
      return started.pid;
    },
    async sessions() {
      const r = await client.request('list', { limit: 100000 });
      return Array.isArray(r.calls) ? r.calls.length : 0;
    },
    close: () => client.close(),
  };
}
