/**
 * A/B of how GET /api/v1/webphone/config reads the webphone.* settings, on embedded PGlite (in its
 * thread, as the server runs it): one SettingsService.get per key (before c8ce16e) against one
 * SettingsService.list (since). `npx tsx bench/webphone/settings-read-ab.ts [--runs 30]`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { WEBPHONE_SETTINGS, defineWebphoneSettings } from '../../apps/server/src/api/webphone-settings.js';
import { SecretBox } from '../../apps/server/src/config/secret-box.js';
import { createDirectoryServices } from '../../apps/server/src/directory/directory-services.js';
import { CLI_PRINCIPAL } from '../../apps/server/src/directory/principal.js';
import { openStore } from '../../apps/server/src/store/open-store.js';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '30' } } });
const runs = Number(args.runs);
const dir = await mkdtemp(join(tmpdir(), 'handset-settings-ab-'));
const store = await openStore({ database: { kind: 'pglite', dir: join(dir, 'db') } });
try {
  const services = createDirectoryServices(store, new SecretBox(randomBytes(32)));
  defineWebphoneSettings(services.settingsRegistry);
  const d = await services.domains.create(CLI_PRINCIPAL, { domain: 'ab.example' });
  await services.settings.set(CLI_PRINCIPAL, 'webphone.brand_name', 'AB', d.id);
  const keys = Object.keys(WEBPHONE_SETTINGS);
  const perKey = () => Promise.all(keys.map((k) => services.settings.get(k, d.id)));
  const listing = () => services.settings.list(CLI_PRINCIPAL, d.id);
  const time = async (f: () => Promise<unknown>) => {
    for (let i = 0; i < 3; i++) await f();
    const xs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await f();
      xs.push(performance.now() - t);
    }
    xs.sort((a, b) => a - b);
    return `median ${xs[Math.floor(xs.length / 2)]!.toFixed(1)} ms, p95 ${xs[Math.ceil(0.95 * xs.length) - 1]!.toFixed(1)} ms`;
  };
  process.stdout.write(
    `${keys.length} keys, ${runs} runs\nper-key get: ${await time(perKey)}\none list:    ${await time(listing)}\n`,
  );
} finally {
  await store.close();
  await rm(dir, { recursive: true, force: true });
}
