import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './handset.js';
import { runSipp, sippScenario, startSipp, writeInjectionFile, type SippResult, type SippTransport } from './sipp.js';

/** A registrar/proxy reached at 127.0.0.1:port serving AORs in `domain`; every user's password is `secret<user>`. */
export interface SippTarget {
  readonly port: number;
  readonly domain: string;
}

/** The convention of the bench/sip scenarios: user N has password `secretN`. */
export function benchPassword(user: string): string {
  return `secret${user}`;
}

/** register.xml once per user (REGISTER, 401, REGISTER with digest credentials, 200). */
export async function sippRegister(
  target: SippTarget,
  transport: SippTransport,
  users: readonly string[],
): Promise<SippResult> {
  const dir = await mkdtemp(join(tmpdir(), 'sipp-reg-'));
  try {
    const inf = join(dir, 'users.csv');
    await writeInjectionFile(
      inf,
      users.map((u) => [u, benchPassword(u), target.domain]),
    );
    return await runSipp({
      scenario: sippScenario('register.xml'),
      transport,
      target: `127.0.0.1:${target.port}`,
      localPort: await freePort(),
      calls: users.length,
      rate: 50,
      limit: 10,
      injectionFile: inf,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The three results of a call run: callee registration, callee (UAS) and callers (UAC). */
export interface SippCallRun {
  readonly register: SippResult;
  readonly uas: SippResult | undefined;
  readonly uac: SippResult | undefined;
}

/**
 * What bench/sip/run.sh call does, small: `callee` registers from a port (register-one.xml),
 * call-uas.xml answers on that port, and call-uac.xml places one authenticated call per caller
 * (INVITE, 407, ACK, INVITE with credentials, 200, ACK, BYE, 200).
 */
export async function sippCalls(
  target: SippTarget,
  transport: SippTransport,
  callee: string,
  callers: readonly string[],
): Promise<SippCallRun> {
  const dir = await mkdtemp(join(tmpdir(), 'sipp-call-'));
  try {
    const uasPort = await freePort();
    const register = await runSipp({
      scenario: sippScenario('register-one.xml'),
      transport,
      target: `127.0.0.1:${target.port}`,
      localPort: uasPort,
      calls: 1,
      service: callee,
      authPassword: benchPassword(callee),
      keys: { domain: target.domain },
      timeoutMs: 20_000,
    });
    if (register.successful !== 1) return { register, uas: undefined, uac: undefined };

    const uas = startSipp({
      scenario: sippScenario('call-uas.xml'),
      transport,
      localPort: uasPort,
      calls: callers.length,
      limit: callers.length,
      timeoutMs: 90_000,
    });
    // SIPp gives no readiness signal; run.sh waits the same.
    await new Promise((r) => setTimeout(r, 500));
    const inf = join(dir, 'callers.csv');
    await writeInjectionFile(
      inf,
      callers.map((u) => [u, benchPassword(u), target.domain]),
    );
    const uac = await runSipp({
      scenario: sippScenario('call-uac.xml'),
      transport,
      target: `127.0.0.1:${target.port}`,
      localPort: await freePort(),
      calls: callers.length,
      rate: 10,
      limit: 5,
      injectionFile: inf,
      service: callee,
      timeoutMs: 60_000,
    });
    // The UAS exits by itself after its last call's 4 s timewait; stop it if a call never reached it.
    const uasDone = await Promise.race([
      uas.result,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 15_000)),
    ]);
    return { register, uas: uasDone ?? (await uas.stop()), uac };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
