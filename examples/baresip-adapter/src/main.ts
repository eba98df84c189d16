/**
 * The reference device adapter: provisions baresip softphones through Handset's device-adapter
 * protocol (docs/device-adapters.md). Run with `npm run adapter:baresip` and
 *   HANDSET_URL=http://127.0.0.1:8080 HANDSET_TOKEN=hst_... (an owner/admin API token)
 * On ProvisioningPhone it opens the phone's configuration session with the code, stores the
 * device password (ADAPTER_STATE_DIR/passwords.json), writes baresip's config/accounts, starts
 * baresip and reports the result once every line registered. On start it reconnects every phone
 * it has a password for.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FilePasswordStore, ProviderClient } from '@handset/device-adapter';
import { BaresipPhone } from './baresip-phone.js';

const env = process.env;
const url = env.HANDSET_URL ?? 'http://127.0.0.1:8080';
const token = env.HANDSET_TOKEN;
if (!token) {
  process.stderr.write(
    'HANDSET_TOKEN is required: an API token of a domain owner or admin (handset tokens create <email>)\n',
  );
  process.exit(2);
}
const stateDir = resolve(env.ADAPTER_STATE_DIR ?? 'baresip-adapter-state');
const ca = env.HANDSET_CA ? readFileSync(env.HANDSET_CA, 'utf8') : undefined;
const passwords = new FilePasswordStore(join(stateDir, 'passwords.json'));
const phones = new Map<string, BaresipPhone>();

/** One JSON line per event on stdout (no secret is ever logged). */
function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), msg, ...fields })}\n`);
}

function phone(mac: string, code: string | undefined): BaresipPhone {
  const p = new BaresipPhone({
    url,
    token: token!,
    ca,
    mac,
    code,
    passwords,
    stateDir,
    bin: env.BARESIP_BIN ?? 'baresip',
    audioSource: env.BARESIP_AUDIO_SOURCE ?? 'ausine,440',
    audioPlayer: env.BARESIP_AUDIO_PLAYER ?? 'alsa,null',
    log,
  });
  phones.set(mac, p);
  return p.start();
}

const provider = new ProviderClient({ url, token, ca, title: env.ADAPTER_TITLE ?? 'baresip' });
provider.on('registered', (id) => log('registered as adapter', { id }));
provider.on('disconnected', (code, reason, willRetry) => log('adapter session lost', { code, reason, willRetry }));
provider.on('error', (e) => log('error from handset', { code: e.code, message: e.message }));
provider.on('provisioningPhone', (job) => {
  log('provisioning phone', { id: job.id, mac: job.mac, username: job.username, domain: job.domain });
  void (async () => {
    await phones.get(job.mac)?.close();
    const p = phone(job.mac, job.code);
    try {
      await p.ready;
      provider.sendResult(job.id, 'ok');
      log('provisioned', { id: job.id, mac: job.mac });
    } catch (err) {
      provider.sendResult(job.id, 'error', (err as Error).message.split('\n')[0]);
      log('provisioning failed', { id: job.id, mac: job.mac, error: (err as Error).message });
    }
  })();
});

// Phones provisioned before: back with their stored password, no code.
for (const mac of await passwords.macs()) {
  log('reconnecting phone', { mac });
  phone(mac, undefined);
}
provider.start();

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    provider.close();
    void Promise.allSettled([...phones.values()].map((p) => p.close())).then(() => process.exit(0));
  });
