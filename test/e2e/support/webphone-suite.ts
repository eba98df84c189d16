import { rm } from 'node:fs/promises';
import { startHandset, type HandsetProcess } from './handset.js';
import { WebphoneBrowser, type WebphonePage } from './webphone-browser.js';
import { seedWebphoneUsers, type SeedUser } from './webphone-seed.js';

/** A running Handset with seeded web phone users, and Chromium opening its web phone. */
export interface WebphoneSuite {
  readonly handset: HandsetProcess;
  readonly browser: WebphoneBrowser;
  /** http://127.0.0.1:<port> of Handset (the web phone is at `${base}/`). */
  readonly base: string;
  /** Opens a fresh page and signs `u` in (waits for "Registered"). */
  signedIn(u: SeedUser): Promise<WebphonePage>;
  /** Signs in through the REST API and returns the session token (for settings). */
  token(u: SeedUser): Promise<string>;
  /** PUTs a domain setting with `u`'s session; rejects unless Handset answers 200. */
  setSetting(u: SeedUser, key: string, value: unknown): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Seeds `users` (with sign-in passwords) into a fresh data directory, starts the built Handset on
 * it and launches Chromium at its web phone: the set-up every web phone e2e file shares.
 */
export async function startWebphoneSuite(
  users: readonly SeedUser[],
  env: Record<string, string> = {},
): Promise<WebphoneSuite> {
  const seeded = await seedWebphoneUsers(users);
  let handset: HandsetProcess | undefined;
  try {
    handset = await startHandset({ ...seeded.env, ...env });
    const base = `http://127.0.0.1:${handset.httpPort}`;
    const browser = await WebphoneBrowser.launch(`${base}/`);
    const h = handset;
    const token = async (u: SeedUser) => {
      const res = await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: u.email, password: u.password }),
      });
      if (res.status !== 200) throw new Error(`login ${u.email}: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    };
    return {
      handset: h,
      browser,
      base,
      async signedIn(u) {
        const p = await browser.open();
        await p.signIn(u.email, u.password);
        return p;
      },
      token,
      async setSetting(u, key, value) {
        const res = await fetch(`${base}/api/v1/settings/${key}`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${await token(u)}`, 'content-type': 'application/json' },
          body: JSON.stringify({ value }),
        });
        if (res.status !== 200) throw new Error(`PUT ${key}: ${res.status} ${await res.text()}`);
      },
      async stop() {
        await browser.close().catch(() => undefined);
        await h.stop();
        await rm(seeded.dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await handset?.stop();
    await rm(seeded.dataDir, { recursive: true, force: true });
    throw err;
  }
}
