/**
 * One baresip process with its config dir, driven over ctrl_tcp (netstring JSON): started,
 * watched until every account registered, stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';

/** What a started baresip reports. */
export interface BaresipRun {
  readonly child: ChildProcess;
  /** Resolves when every AOR registered; rejects on a failure or after `timeoutMs`. */
  registered(aors: readonly string[], timeoutMs: number): Promise<void>;
  output(): string;
  /** SIGTERM (baresip un-registers first) or SIGKILL (it does not). */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

/** Starts `baresip -f dir` and connects to its ctrl_tcp port. */
export async function runBaresip(bin: string, dir: string, ctrlPort: number): Promise<BaresipRun> {
  let out = '';
  const child = spawn(bin, ['-f', dir], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.on('error', (e) => (out += `\n[spawn error] ${e.message}\n`));
  const ctrl = await connectCtrl(ctrlPort, child, Date.now() + 10_000).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${out}`);
  });
  const pending = new Map<string, (data: string) => void>();
  const events: Array<{ type: string; accountaor?: string; param?: string }> = [];
  let buf = Buffer.alloc(0);
  let token = 0;
  ctrl.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const colon = buf.indexOf(0x3a);
      if (colon < 0) return;
      const len = Number(buf.subarray(0, colon).toString('latin1'));
      if (buf.length < colon + 2 + len) return;
      const payload = buf.subarray(colon + 1, colon + 1 + len).toString('utf8');
      buf = buf.subarray(colon + 2 + len);
      try {
        const msg = JSON.parse(payload) as Record<string, unknown>;
        if (msg.event === true) events.push(msg as { type: string });
        else if (msg.response === true) {
          pending.get(String(msg.token))?.(typeof msg.data === 'string' ? msg.data : '');
          pending.delete(String(msg.token));
        }
      } catch {
        // Not JSON: ignored.
      }
    }
  });
  ctrl.on('error', () => undefined);
  const command = (cmd: string): Promise<string> =>
    new Promise((resolve) => {
      const t = String(++token);
      pending.set(t, resolve);
      const body = Buffer.from(JSON.stringify({ command: cmd, token: t }));
      ctrl.write(Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]));
      setTimeout(() => {
        pending.delete(t);
        resolve('');
      }, 2000).unref();
    });
  return {
    child,
    output: () => out,
    async registered(aors, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`baresip exited with ${child.exitCode}\n${out}`);
        const failed = events.find((e) => e.type === 'REGISTER_FAIL');
        if (failed) throw new Error(`registration failed: ${failed.accountaor ?? ''} ${failed.param ?? ''}`);
        // `reginfo` lists each user agent with OK once registered (events may come before we listen).
        // eslint-disable-next-line no-control-regex
        const info = (await command('reginfo')).replace(/\x1b\[[0-9;]*m/g, '');
        const ok = aors.every(
          (aor) =>
            events.some((e) => e.type === 'REGISTER_OK' && e.accountaor === aor) ||
            info.split('\n').some((l) => l.includes(aor) && /\bOK\b/.test(l)),
        );
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`not registered after ${timeoutMs} ms\n${info}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async stop(signal = 'SIGTERM') {
      ctrl.destroy();
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

async function connectCtrl(port: number, child: ChildProcess, deadline: number): Promise<Socket> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`baresip exited with ${child.exitCode}`);
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
    } catch {
      if (Date.now() > deadline) throw new Error(`baresip ctrl_tcp on 127.0.0.1:${port} did not accept`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
