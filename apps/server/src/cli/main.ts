#!/usr/bin/env node
/** The `handset` command: `start` runs the server; the other commands administer the directory. */
import { pino } from 'pino';
import { applyEmbeddedDatabaseTuning, applyRuntimeTuning, collectStartupGarbage } from '../config/runtime-tuning.js';
import { detectPublicHost } from '../config/public-host.js';
import { loadServerConfig } from '../config/server-config.js';
import { explainAddressInUse } from './port-in-use.js';
import { runCli } from './run-cli.js';
import { formatBanner, summarizeStartup } from './startup-banner.js';

/** `handset start`: runs until SIGINT/SIGTERM, then closes everything in order. */
async function start(): Promise<number> {
  let config = loadServerConfig();
  if (config.publicHostIsDefault) {
    const detected = await detectPublicHost(config.bind);
    config = { ...config, publicHost: detected.host, publicHostSource: detected.source };
  }
  const logger = pino({ level: config.logLevel, base: { service: 'handset' } });
  // Before the server allocates anything: how V8 collects this process's garbage.
  const tuning = applyRuntimeTuning(config.parallelScavenge);
  logger.info(tuning, 'V8 runtime tuning');
  if (config.database.kind === 'pglite') applyEmbeddedDatabaseTuning();
  // Loaded lazily so that directory commands do not pay for the whole server.
  const { startHandset, HANDSET_VERSION } = await import('../main.js');
  let server: Awaited<ReturnType<typeof startHandset>>;
  try {
    server = await startHandset(config, { logger });
  } catch (err) {
    const inUse = await explainAddressInUse(err, config);
    if (inUse === undefined) logger.fatal({ err }, 'Handset failed to start');
    process.stderr.write(`handset: cannot start: ${inUse ?? (err as Error).message}\n`);
    return 1;
  }
  const summary = summarizeStartup(config, server, HANDSET_VERSION);
  // A terminal gets the banner; a journal or a pipe gets the same facts as one JSON record.
  if (process.stdout.isTTY) process.stdout.write(formatBanner(summary));
  else logger.info({ startup: summary }, 'Handset started');
  for (const w of summary.warnings) logger.warn(w);
  collectStartupGarbage();
  return new Promise<number>((done) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, 'stopping');
      server.close().then(
        () => done(0),
        (err: unknown) => {
          logger.error({ err }, 'error while stopping');
          done(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  start,
});
process.exitCode = code;
