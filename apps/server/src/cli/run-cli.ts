import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pino } from 'pino';
import { ConfigError } from '../config/config-error.js';
import { SecretBox } from '../config/secret-box.js';
import { loadSecretKey } from '../config/secret-key.js';
import { loadServerConfig } from '../config/server-config.js';
import { DirectoryError } from '../directory/directory-error.js';
import { DirectoryService } from '../directory/directory-service.js';
import { createDirectoryServices } from '../directory/directory-services.js';
import { ProvisioningError } from '../provisioning/provisioning-error.js';
import { createStandaloneProvisioning, publicUrlOf } from '../provisioning/provisioning-wiring.js';
import { defineWebphoneSettings } from '../api/webphone-settings.js';
import { defineDeskSettings } from '../provisioning/desk/desk-settings.js';
import { createDeskPhones } from '../provisioning/desk/desk-wiring.js';
import { defineSessionTalkSettings } from '../provisioning/registry-provisioning-settings.js';
import { CdrRepository } from '../proxy/cdr-repository.js';
import { openStore } from '../store/open-store.js';
import { isAlive } from '../store/pglite-lock.js';
import { StoreError } from '../store/store-error.js';
import { sendAdminCommand } from './admin-client.js';
import { executeAdminCommand, type AdminCommand, type AdminResult } from './admin-commands.js';
import { parseCliArgs, USAGE } from './cli-args.js';
import { showServerKey } from '../cluster/key-show.js';
import { CliError } from './cli-error.js';
import { formatAdminResult } from './cli-output.js';
import { readRunFile } from './run-file.js';

/** The process around the CLI, injected so tests can run it in process. */
export interface CliIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /** Reads all of standard input (for --password-stdin). */
  readStdin(): Promise<string>;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Runs `handset start` until the server stops; returns the exit status. */
  start(): Promise<number>;
  /** How long to wait for a database held by a starting server or another CLI (default 15 s). */
  lockWaitMs?: number;
}

/**
 * Runs one CLI invocation and returns its exit status. Every failure is one line on stderr
 * (`handset: ...`) and status 1. Directory commands go to the running server when the run file
 * names a live process, and otherwise open the database themselves.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const inv = parseCliArgs(argv);
    switch (inv.kind) {
      case 'help':
        io.stdout.write(USAGE);
        return 0;
      case 'start':
        return await io.start();
      case 'key-show':
        io.stdout.write((await showServerKey(loadServerConfig(io.env, io.cwd))) + '\n');
        return 0;
      case 'admin':
        io.stdout.write(formatAdminResult(await dispatch(inv.command, io), inv.json));
        return 0;
      case 'import': {
        const csv = await readCsv(resolve(io.cwd, inv.file));
        const command: AdminCommand = { command: 'users.import', args: { domain: inv.domain, csv } };
        io.stdout.write(formatAdminResult(await dispatch(command, io), inv.json));
        return 0;
      }
      case 'activation': {
        const result = await dispatch(inv.command, io);
        if (inv.png !== undefined && result.kind === 'activation') {
          const path = resolve(io.cwd, inv.png);
          try {
            await writeFile(path, Buffer.from(result.activation.pngBase64, 'base64'));
          } catch (err) {
            throw new CliError('FILE', `cannot write ${path}: ${(err as Error).message}`, { cause: err });
          }
          if (!inv.json) io.stdout.write(`wrote the QR image to ${path}\n`);
        }
        io.stdout.write(formatAdminResult(result, inv.json));
        return 0;
      }
      case 'add-user-stdin': {
        const password = (await io.readStdin()).replace(/\r?\n$/, '');
        const command: AdminCommand = {
          command: 'users.create',
          args: {
            domain: inv.domain,
            ext: inv.ext,
            password,
            name: inv.name,
            email: inv.email,
            role: inv.role,
            loginPassword: inv.loginPassword,
            phone: inv.phone,
          },
        };
        io.stdout.write(formatAdminResult(await dispatch(command, io), inv.json));
        return 0;
      }
      case 'superadmin-stdin': {
        const password = (await io.readStdin()).replace(/\r?\n$/, '');
        const command: AdminCommand = { command: 'superadmin.create', args: { email: inv.email, password, name: inv.name } };
        io.stdout.write(formatAdminResult(await dispatch(command, io), inv.json));
        return 0;
      }
    }
  } catch (err) {
    io.stderr.write(`handset: ${describe(err)}\n`);
    return 1;
  }
}

async function dispatch(command: AdminCommand, io: CliIo): Promise<AdminResult> {
  const config = loadServerConfig(io.env, io.cwd);
  const deadline = Date.now() + (io.lockWaitMs ?? 15_000);
  for (;;) {
    const run = await readRunFile(config.dataDir);
    if (run && run.pid !== process.pid && isAlive(run.pid)) return sendAdminCommand(run, command);
    let store;
    try {
      store = await openStore(config);
    } catch (err) {
      // A server that is starting (or another CLI) holds the embedded database: wait for it to
      // publish its run file, or to let go.
      if (err instanceof StoreError && err.code === 'LOCKED' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      throw err;
    }
    try {
      const key = await loadSecretKey(config);
      const secrets = new SecretBox(key);
      const directory = new DirectoryService(store, secrets);
      await directory.verifySecretKey();
      const logger = pino({ level: 'silent' });
      const { codes: activations, directory: provisioningDirectory } = createStandaloneProvisioning({
        store,
        directory,
        serverKey: key,
        logger,
        publicUrl: publicUrlOf(config),
      });
      const services = createDirectoryServices(store, secrets);
      // Every setting the server knows, so `settings ...` sees the same keys with or without it.
      defineSessionTalkSettings(services.settingsRegistry);
      defineWebphoneSettings(services.settingsRegistry);
      defineDeskSettings(services.settingsRegistry);
      const desk = createDeskPhones({
        store,
        directory: provisioningDirectory,
        settingsService: services.settings,
        audit: services.audit,
        logger,
        publicUrl: publicUrlOf(config),
        serverKey: key,
      });
      await desk.start();
      try {
        return await executeAdminCommand(
          { directory, cdrs: new CdrRepository(store), activations, services, desk, running: false },
          command,
        );
      } finally {
        await desk.close();
      }
    } finally {
      await store.close();
    }
  }
}

async function readCsv(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      'FILE',
      code === 'ENOENT' ? `no such file: ${path}` : `cannot read ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

function describe(err: unknown): string {
  if (
    err instanceof CliError ||
    err instanceof DirectoryError ||
    err instanceof ProvisioningError ||
    err instanceof ConfigError ||
    err instanceof StoreError
  ) {
    return err.message;
  }
  const message = err instanceof Error ? err.message : String(err);
  return `unexpected error: ${message.split('\n')[0]}`;
}
