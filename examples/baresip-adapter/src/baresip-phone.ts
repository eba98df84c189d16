/**
 * One phone of the reference adapter: its configuration session with Handset and the baresip
 * that plays the phone. Every configuration batch rewrites baresip's files and restarts it;
 * `ready` resolves once the first configuration is applied and every line registered.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { SysclientClient, type PasswordStore, type PhoneConfiguration } from '@handset/device-adapter';
import { accountsFile, aorOf, configFile } from './baresip-files.js';
import { runBaresip, type BaresipRun } from './baresip-process.js';

/** Options of {@link BaresipPhone}. */
export interface BaresipPhoneOptions {
  url: string;
  token: string;
  ca?: string | undefined;
  mac: string;
  /** The ProvisioningPhone code (first contact); absent: identify with the stored password. */
  code?: string | undefined;
  passwords: PasswordStore;
  stateDir: string;
  bin: string;
  audioSource: string;
  audioPlayer: string;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  /** How long the phone may take to register (default 30 s). */
  registerTimeoutMs?: number;
}

/** See the file comment. */
export class BaresipPhone {
  readonly ready: Promise<void>;
  readonly #session: SysclientClient;
  #baresip: BaresipRun | undefined;
  #ports: { ctrlPort: number; sipPort: number } | undefined;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  #settle!: { resolve: () => void; reject: (e: Error) => void };
  #settled = false;

  constructor(private readonly o: BaresipPhoneOptions) {
    this.ready = new Promise<void>((resolve, reject) => (this.#settle = { resolve, reject }));
    this.ready.catch(() => undefined);
    this.#session = new SysclientClient({
      url: o.url,
      token: o.token,
      ca: o.ca,
      mac: o.mac,
      code: o.code,
      passwords: o.passwords,
      product: 'handset-baresip-adapter',
      version: '1',
    });
    this.#session.on('identified', (first) => o.log('identified', { mac: o.mac, first }));
    this.#session.on('error', (e) => {
      o.log('error from handset', { mac: o.mac, code: e.code, message: e.message });
      if (['IDENTIFY_FAILED', 'CODE_EXPIRED', 'FORBIDDEN'].includes(e.code))
        this.#finish(new Error(`${e.code}: ${e.message}`));
    });
    this.#session.on('config', (config, changed) => {
      o.log('configuration received', { mac: o.mac, changed });
      this.#chain = this.#chain
        .then(() => this.#apply(config))
        .catch((err: unknown) => {
          o.log('applying the configuration failed', { mac: o.mac, error: (err as Error).message.split('\n')[0] });
          this.#finish(err as Error);
        });
    });
  }

  /** The directory of this phone's baresip files. */
  get dir(): string {
    return join(this.o.stateDir, this.o.mac);
  }

  start(): this {
    this.#session.start();
    return this;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#session.close();
    await this.#baresip?.stop();
    this.#finish(new Error('closed'));
  }

  async #apply(config: PhoneConfiguration): Promise<void> {
    if (this.#closed) return;
    const lines = config.sip?.lines ?? [];
    if (lines.length === 0) throw new Error('the configuration has no SIP line');
    // The old process goes without un-REGISTER: its credentials may be the ones just replaced, and
    // a de-registration with them would only collect authentication failures for this address.
    // The new process takes the same ports, so its contact replaces the old binding.
    await this.#baresip?.stop('SIGKILL');
    this.#baresip = undefined;
    const reuse = this.#ports && (await portsFree(this.#ports)) ? this.#ports : undefined;
    const ctrlPort = reuse?.ctrlPort ?? (await freePort());
    const sipPort = reuse?.sipPort ?? (await freePortPair(ctrlPort));
    this.#ports = { ctrlPort, sipPort };
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFile(join(this.dir, 'config'), configFile(config, { sipPort, ctrlPort, ...this.o }));
    await writeFile(join(this.dir, 'accounts'), accountsFile(config), { mode: 0o600 });
    await writeFile(join(this.dir, 'contacts'), '');
    const run = await runBaresip(this.o.bin, this.dir, ctrlPort);
    if (this.#closed) return run.stop();
    this.#baresip = run;
    const aors = lines.map(aorOf);
    try {
      await run.registered(aors, this.o.registerTimeoutMs ?? 30_000);
    } catch (err) {
      this.o.log('baresip did not register', { mac: this.o.mac, output: run.output().slice(-3000) });
      throw err;
    }
    const state = {
      mac: this.o.mac,
      aors,
      sipPort,
      ctrlPort,
      pid: run.child.pid,
      registeredAt: new Date().toISOString(),
    };
    await writeFile(join(this.dir, 'phone.json'), JSON.stringify(state, null, 1));
    this.o.log('registered', state);
    this.#finish(undefined);
  }

  #finish(err: Error | undefined): void {
    if (this.#settled) return;
    this.#settled = true;
    if (err) this.#settle.reject(err);
    else this.#settle.resolve();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function portsFree(p: { ctrlPort: number; sipPort: number }): Promise<boolean> {
  for (const port of [p.ctrlPort, p.sipPort, p.sipPort + 1]) if (!(await tcpFree(port))) return false;
  return true;
}

/** A port P with P + 1 free too (baresip listens for TLS on P + 1), other than `avoid`. */
async function freePortPair(avoid: number): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freePort();
    if (p !== avoid && p + 1 !== avoid && p < 65535 && (await tcpFree(p + 1))) return p;
  }
  throw new Error('no free port pair for baresip');
}
