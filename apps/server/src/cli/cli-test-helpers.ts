import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Repository root (the CLI runs from there so `--import tsx` resolves). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CLI = fileURLToPath(new URL('./main.ts', import.meta.url));

/** What a finished CLI process left behind. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `handset <args>` from the TypeScript sources as a child process (as `npx tsx` would). */
export function runHandset(args: string[], env: Record<string, string>, stdin?: string): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      {
        cwd: REPO_ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
    else child.stdin?.end();
  });
}

/** A CliIo for running the CLI in process, collecting what it writes. */
export function inProcessIo(env: Record<string, string>, cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      stdout: { write: (s: string) => out.push(s) },
      stderr: { write: (s: string) => err.push(s) },
      readStdin: () => Promise.resolve(''),
      env,
      cwd,
      start: () => Promise.resolve(0),
      lockWaitMs: 300,
    },
  };
}
