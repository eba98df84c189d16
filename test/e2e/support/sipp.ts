import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** SIPp transport modes used here: one UDP socket, or one TCP connection. */
export type SippTransport = 'u1' | 't1';

/** Where the SIPp scenarios live (bench/sip, the ones the benchmarks run, or `HANDSET_SIPP_SCENARIOS`). */
export const sippScenarioDir =
  process.env.HANDSET_SIPP_SCENARIOS ?? fileURLToPath(new URL('../../../bench/sip/', import.meta.url));

/** Absolute path of one scenario, e.g. `sippScenario('register.xml')`. */
export function sippScenario(file: string): string {
  return join(sippScenarioDir, file);
}

/** One SIPp run. Without `target` it runs as a server (UAS) listening on `localPort`. */
export interface SippOptions {
  readonly scenario: string;
  readonly transport: SippTransport;
  /** Local port SIPp binds (and puts in Via/Contact). */
  readonly localPort: number;
  /** `host:port` of the server under test; omit for a UAS. */
  readonly target?: string;
  /** `-m`: exit after this many calls (scenario runs). */
  readonly calls: number;
  /** `-r`: new calls per second. Default 20. */
  readonly rate?: number;
  /** `-l`: concurrent calls. Default 10. */
  readonly limit?: number;
  /** `-inf`: CSV injection file (see writeInjectionFile). */
  readonly injectionFile?: string;
  /** `-s`: the service (user part of the Request-URI; the callee in call-uac.xml). */
  readonly service?: string;
  /** `-ap`: password for [authentication] without explicit password. */
  readonly authPassword?: string;
  /** `-key name value` pairs, e.g. `{ domain: 'example.test' }`. */
  readonly keys?: Readonly<Record<string, string>>;
  /** Hard limit on the whole run; SIPp is killed after it. Default 60 s. */
  readonly timeoutMs?: number;
}

/** What a finished SIPp run reports. */
export interface SippResult {
  /** 0: every call succeeded; 1: at least one failed; 97/99/-1/-2 see sipp(1). null if killed. */
  readonly exitCode: number | null;
  readonly successful: number;
  readonly failed: number;
  /** SIPp's final screens (stdout and stderr). */
  readonly output: string;
  /** Unexpected messages, from `-trace_err`. */
  readonly errors: string;
  /** A one-paragraph summary for assertion messages: counts, exit code, the tail of output and errors. */
  describe(): string;
}

/** A SIPp child process; `result` settles when it exits. */
export interface SippProcess {
  readonly pid: number | undefined;
  readonly result: Promise<SippResult>;
  /** Soft exit (SIGUSR1: finish ongoing calls), SIGKILL after `graceMs`; resolves with the result. */
  stop(graceMs?: number): Promise<SippResult>;
}

/** Reads the cumulative column of a row of SIPp's statistics screen, e.g. 'Successful call'. */
function cumulative(output: string, row: string): number {
  const lines = output.split('\n').filter((l) => l.trimStart().startsWith(row));
  const last = lines.at(-1);
  if (!last) return 0;
  const cell = last.split('|')[2];
  return Number(cell?.trim() ?? 0) || 0;
}

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
}

/** Starts SIPp in the background; always pass `-nostdin` style options so it never waits on a terminal. */
export function startSipp(opts: SippOptions): SippProcess {
  const workDir = mkdtemp(join(tmpdir(), 'sipp-'));
  let pidResolve: (pid: number | undefined) => void = () => undefined;
  const pidKnown = new Promise<number | undefined>((r) => (pidResolve = r));
  let child: ReturnType<typeof spawn> | undefined;
  let stopped = false;

  const result = (async (): Promise<SippResult> => {
    const dir = await workDir;
    const errorFile = join(dir, 'errors.log');
    const args = [
      ...(opts.target ? [opts.target] : []),
      '-sf',
      opts.scenario,
      '-t',
      opts.transport,
      '-i',
      '127.0.0.1',
      '-p',
      String(opts.localPort),
      '-m',
      String(opts.calls),
      '-r',
      String(opts.rate ?? 20),
      '-l',
      String(opts.limit ?? 10),
      '-nostdin',
      '-recv_timeout',
      '10000',
      '-timeout',
      String(Math.ceil((opts.timeoutMs ?? 60_000) / 1000)),
      '-trace_err',
      '-error_file',
      errorFile,
      ...(opts.injectionFile ? ['-inf', opts.injectionFile] : []),
      ...(opts.service ? ['-s', opts.service] : []),
      ...(opts.authPassword ? ['-ap', opts.authPassword] : []),
      ...Object.entries(opts.keys ?? {}).flatMap(([k, v]) => ['-key', k, v]),
    ];
    let output = `$ sipp ${args.join(' ')}\n`;
    const proc = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    pidResolve(proc.pid);
    const killOnExit = () => proc.kill('SIGKILL');
    process.once('exit', killOnExit);
    proc.stdout.on('data', (d: Buffer) => (output += d.toString('latin1')));
    proc.stderr.on('data', (d: Buffer) => (output += d.toString('latin1')));
    // SIPp's own -timeout should end it first; this is the backstop.
    const hardLimit = setTimeout(() => proc.kill('SIGKILL'), (opts.timeoutMs ?? 60_000) + 10_000);
    const exitCode = await new Promise<number | null>((resolve) => {
      proc.once('error', (e) => {
        output += `\n[spawn error] ${e.message}\n`;
        resolve(null);
      });
      proc.once('close', (code) => resolve(code));
    });
    clearTimeout(hardLimit);
    process.removeListener('exit', killOnExit);
    const errors = await readFile(errorFile, 'latin1').catch(() => '');
    await rm(dir, { recursive: true, force: true });
    const successful = cumulative(output, 'Successful call');
    const failed = cumulative(output, 'Failed call');
    return {
      exitCode,
      successful,
      failed,
      output,
      errors,
      describe: () =>
        `sipp ${opts.scenario.split('/').at(-1)} -t ${opts.transport}: exit=${exitCode}${stopped ? ' (stopped)' : ''} ` +
        `successful=${successful} failed=${failed}\n--- output (tail) ---\n${tail(output, 40)}\n` +
        `--- unexpected messages (tail) ---\n${tail(errors, 60)}`,
    };
  })();

  return {
    get pid() {
      return child?.pid;
    },
    result,
    async stop(graceMs = 8_000) {
      await pidKnown;
      const proc = child;
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        stopped = true;
        proc.kill('SIGUSR1');
        const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        const r = await result;
        clearTimeout(t);
        return r;
      }
      return result;
    },
  };
}

/** Runs SIPp to completion. */
export function runSipp(opts: SippOptions): Promise<SippResult> {
  return startSipp(opts).result;
}

/** Writes a SIPp injection file: `SEQUENTIAL` then one `;`-separated row per call. */
export async function writeInjectionFile(path: string, rows: readonly (readonly string[])[]): Promise<void> {
  await writeFile(path, ['SEQUENTIAL', ...rows.map((r) => r.join(';'))].join('\n') + '\n');
}
