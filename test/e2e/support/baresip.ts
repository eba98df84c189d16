import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './handset.js';
import { NetstringDecoder, encodeNetstring } from './netstring.js';

/** How one baresip instance reaches the registrar and what it sends as audio. */
export interface BaresipOptions {
  /** Extension, e.g. '1001'. */
  readonly user: string;
  /** SIP domain of the AOR, e.g. 'example.test' (packets still go to 127.0.0.1:proxyPort). */
  readonly domain: string;
  readonly password: string;
  /** SIP port of the registrar/proxy on 127.0.0.1 (used as outbound proxy). */
  readonly proxyPort: number;
  readonly transport: 'udp' | 'tcp';
  /** Frequency of the `ausine` tone this agent sends (a multiple of 10 Hz below 4 kHz, for PCMU); lets the peer tell our audio from its own. */
  readonly toneHz: number;
  /** `auto` answers incoming calls at once (account `answermode=auto`). Default `auto`. */
  readonly answerMode?: 'auto' | 'manual';
  /** Print every SIP message (`baresip -s`) into output(). */
  readonly sipTrace?: boolean;
  /** The account's `audio_codecs` (default `PCMU,PCMA`). */
  readonly audioCodecs?: string;
}

/** One event pushed by baresip's ctrl_tcp module (e.g. REGISTER_OK, CALL_ESTABLISHED, CALL_CLOSED). */
export interface BaresipEvent {
  readonly type: string;
  readonly class?: string;
  readonly accountaor?: string;
  readonly direction?: string;
  readonly peeruri?: string;
  readonly id?: string;
  readonly param?: string;
  readonly [key: string]: unknown;
}

/** Which event waitForEvent looks for, besides its type. */
export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly since?: number;
  readonly where?: (e: BaresipEvent) => boolean;
}

/** The answer to a ctrl_tcp command. */
export interface BaresipResponse {
  readonly ok: boolean;
  readonly data: string;
}

/** Paths of the WAV dumps written by the `sndfile` filter: `decode` is what was received and played. */
export interface BaresipRecordings {
  readonly encode: string[];
  readonly decode: string[];
}

/** The audio RTP packet counts baresip prints when a call ends (config `rtp_stats yes`). */
export interface BaresipRtpSummary {
  readonly txPackets: number;
  readonly rxPackets: number;
}

/** A running baresip child process driven over ctrl_tcp. */
export interface BaresipAgent {
  readonly aor: string;
  readonly configDir: string;
  readonly sipPort: number;
  readonly child: ChildProcess;
  /** stdout and stderr so far, plus the ctrl_tcp events; put this in assertion messages. */
  output(): string;
  events(): readonly BaresipEvent[];
  /** Sends a long-form command (`dial`, `hangup`, `reginfo`, `callstat`, `listcalls`...) and awaits its response. */
  command(command: string, params?: string, timeoutMs?: number): Promise<BaresipResponse>;
  /**
   * Resolves with the first event of this type at index >= `since` in events() (already seen or future)
   * that matches `where`. Take `since` as events().length before the action whose event you await.
   */
  waitForEvent(type: string, opts?: WaitOptions): Promise<BaresipEvent>;
  /** Waits for the first REGISTER_OK (rejects at once on REGISTER_FAIL). */
  waitForRegistered(timeoutMs?: number): Promise<void>;
  /** WAV dumps of the calls so far; read them before stop(), which deletes the config dir. */
  recordings(): Promise<BaresipRecordings>;
  /** RTP summaries printed so far, one per ended call. */
  rtpSummaries(): BaresipRtpSummary[];
  /** Waits until more than `seen` summaries were printed; resolves with the newest. */
  waitForRtpSummary(seen: number, timeoutMs?: number): Promise<BaresipRtpSummary>;
  /** Kills the process (SIGTERM, then SIGKILL) and removes its config dir; safe to call twice. */
  stop(): Promise<void>;
}

const CTRL_CONNECT_TIMEOUT_MS = 10_000;

function configText(o: { sipPort: number; ctrlPort: number; toneHz: number; recordDir: string }): string {
  // baresip 1.0 syntax. No NAT modules (stun/turn/ice), no sound card: ausine is the source,
  // ALSA's built-in `null` PCM the player, and `sndfile` dumps what was encoded and decoded.
  return `poll_method		epoll
sip_listen		127.0.0.1:${o.sipPort}
net_interface		127.0.0.1
call_local_timeout	60
call_max_calls		4
audio_player		alsa,null
audio_alert		alsa,null
audio_source		ausine,${o.toneHz}
ausrc_srate		48000
auplay_srate		48000
ausrc_channels		2
auplay_channels		2
audio_buffer		20-160
rtp_ports		20000-40000
rtcp_mux		no
jitter_buffer_delay	1-10
rtp_stats		yes
rtp_timeout		0
module_path		/usr/lib/baresip/modules
module			g711.so
module			alsa.so
module			ausine.so
module			sndfile.so
module_tmp		uuid.so
module_tmp		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:${o.ctrlPort}
snd_path		${o.recordDir}
statmode_default	off
ringback_disabled	yes
`;
}

function accountLine(o: BaresipOptions): string {
  const aor = `sip:${o.user}@${o.domain}`;
  const outbound = `sip:127.0.0.1:${o.proxyPort};transport=${o.transport}`;
  return (
    `<${aor};transport=${o.transport}>;auth_user=${o.user};auth_pass=${o.password}` +
    `;outbound="${outbound}";answermode=${o.answerMode ?? 'auto'};regint=600;audio_codecs=${o.audioCodecs ?? 'PCMU,PCMA'}`
  );
}

async function connectCtrl(port: number, deadline: number, child: ChildProcess): Promise<Socket> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`baresip exited with ${child.exitCode}`);
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
    } catch {
      if (Date.now() > deadline) throw new Error(`ctrl_tcp on 127.0.0.1:${port} did not accept`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * A free port P for `sip_listen`: baresip binds UDP and TCP on P and TLS on P + 1, so P + 1 must be
 * free too (and not the ctrl_tcp port, which the kernel often hands out right after P).
 */
async function sipPortBeside(ctrlPort: number): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await freePort();
    if (port + 1 !== ctrlPort && port + 1 <= 65535 && (await tcpFree(port + 1))) return port;
  }
  throw new Error('no free port pair for baresip');
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Starts baresip with its own temp config dir (`baresip -f dir`) and connects to its ctrl_tcp port. */
export async function startBaresip(opts: BaresipOptions): Promise<BaresipAgent> {
  const configDir = await mkdtemp(join(tmpdir(), `baresip-${opts.user}-`));
  const recordDir = join(configDir, 'rec');
  const ctrlPort = await freePort();
  const sipPort = await sipPortBeside(ctrlPort);
  await writeFile(join(configDir, 'config'), configText({ sipPort, ctrlPort, toneHz: opts.toneHz, recordDir }));
  // The account is added with `uanew` once ctrl_tcp is connected, so its REGISTER_OK cannot be missed.
  await writeFile(join(configDir, 'accounts'), '');
  await writeFile(join(configDir, 'contacts'), '');
  await mkdir(recordDir);

  let out = '';
  const events: BaresipEvent[] = [];
  const eventWaiters = new Set<() => void>();
  const pending = new Map<string, (r: BaresipResponse) => void>();
  let nextToken = 1;

  const args = ['-f', configDir, ...(opts.sipTrace ? ['-s'] : [])];
  const child = spawn('baresip', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  child.on('error', (e) => (out += `\n[spawn error] ${e.message}\n`));
  // If the test runner dies without calling stop(), do not leave baresip running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let ctrl: Socket;
  try {
    ctrl = await connectCtrl(ctrlPort, Date.now() + CTRL_CONNECT_TIMEOUT_MS, child);
  } catch (e) {
    child.kill('SIGKILL');
    process.removeListener('exit', killOnExit);
    await rm(configDir, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}\n--- baresip output ---\n${out}`, { cause: e });
  }
  const decoder = new NetstringDecoder();
  ctrl.on('data', (chunk: Buffer) => {
    let payloads: string[];
    try {
      payloads = decoder.push(chunk);
    } catch (e) {
      out += `\n[ctrl_tcp framing error] ${(e as Error).message}\n`;
      ctrl.destroy();
      return;
    }
    for (const payload of payloads) {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(payload) as Record<string, unknown>;
      } catch {
        out += `\n[ctrl_tcp unparsable] ${payload}\n`;
        continue;
      }
      if (msg.event === true) {
        events.push(msg as unknown as BaresipEvent);
        out += `\n[event] ${payload}\n`;
        for (const w of [...eventWaiters]) w();
      } else if (msg.response === true) {
        const token = typeof msg.token === 'string' ? msg.token : '';
        const resolve = pending.get(token);
        pending.delete(token);
        resolve?.({ ok: msg.ok === true, data: typeof msg.data === 'string' ? msg.data : '' });
      }
    }
  });
  ctrl.on('error', () => {
    /* the process is going away; stop() reports through output() */
  });

  const aor = `sip:${opts.user}@${opts.domain}`;
  const withOutput = (msg: string) => new Error(`${msg} [${aor}]\n--- baresip output ---\n${out}`);

  const agent: BaresipAgent = {
    aor,
    configDir,
    sipPort,
    child,
    output: () => out,
    events: () => events,
    command(command, params, timeoutMs = 5_000) {
      const token = String(nextToken++);
      const body = JSON.stringify({ command, ...(params === undefined ? {} : { params }), token });
      return new Promise<BaresipResponse>((resolve, reject) => {
        const t = setTimeout(() => {
          pending.delete(token);
          reject(withOutput(`no response to '${command}' within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(token, (r) => {
          clearTimeout(t);
          resolve(r);
        });
        ctrl.write(encodeNetstring(body));
      });
    },
    waitForEvent(type, { timeoutMs = 15_000, since = 0, where = () => true } = {}) {
      return new Promise<BaresipEvent>((resolve, reject) => {
        const check = () => {
          const hit = events.slice(since).find((e) => e.type === type && where(e));
          if (hit) {
            done();
            resolve(hit);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(withOutput(`baresip exited while waiting for ${type}`));
          }
        };
        const t = setTimeout(() => {
          done();
          reject(withOutput(`no ${type} event within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(t);
          eventWaiters.delete(check);
          child.removeListener('exit', check);
        };
        eventWaiters.add(check);
        child.once('exit', check);
        check();
      });
    },
    async waitForRegistered(timeoutMs = 15_000) {
      const failed = agent.waitForEvent('REGISTER_FAIL', { timeoutMs: timeoutMs + 1_000 }).then(
        (e) => {
          // libre 1.0 answers any non-MD5 digest challenge (even beside an MD5 one) with ENOSYS.
          const hint = /not implemented/i.test(String(e.param)) ? ' (a digest challenge other than MD5?)' : '';
          return Promise.reject(withOutput(`registration failed: ${String(e.param)}${hint}`));
        },
        () => new Promise<never>(() => undefined),
      );
      await Promise.race([agent.waitForEvent('REGISTER_OK', { timeoutMs }), failed]);
    },
    async recordings() {
      const files = await readdir(recordDir).catch(() => [] as string[]);
      const pick = (kind: string) =>
        files
          .filter((f) => f.endsWith(`-${kind}.wav`))
          .sort()
          .map((f) => join(recordDir, f));
      return { encode: pick('enc'), decode: pick('dec') };
    },
    rtpSummaries() {
      // audio           Transmit:     Receive:
      // packets:            151          153
      return [...out.matchAll(/^packets:\s+(\d+)\s+(\d+)\s*$/gm)].map((m) => ({
        txPackets: Number(m[1]),
        rxPackets: Number(m[2]),
      }));
    },
    async waitForRtpSummary(seen, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const all = agent.rtpSummaries();
        const newest = all.at(-1);
        if (all.length > seen && newest) return newest;
        if (Date.now() > deadline) throw withOutput(`no RTP summary within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      ctrl.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(t);
      }
      process.removeListener('exit', killOnExit);
      for (const resolve of pending.values()) resolve({ ok: false, data: 'stopped' });
      pending.clear();
      await rm(configDir, { recursive: true, force: true });
    },
  };
  try {
    const added = await agent.command('uanew', accountLine(opts));
    if (!added.ok) throw withOutput(`uanew failed: ${added.data}`);
  } catch (e) {
    await agent.stop();
    throw e;
  }
  return agent;
}
