/**
 * The web phone opened from a non-secure origin (a LAN address over plain HTTP), in headless
 * Chromium: there the browser gives no microphone (`window.isSecureContext` false, no
 * `navigator.mediaDevices`), so the phone says calls need HTTPS and how to fix it instead of
 * hanging on "Calling…". The host name `phone.lan.test` is mapped to 127.0.0.1 in Chromium
 * (loopback itself counts as secure). Also: a refused sign-in keeps the e-mail and clears the password.
 */
import { rm } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, chromiumPath } from './support/browser.js';
import { startHandset, type HandsetProcess } from './support/handset.js';
import { seedWebphoneUsers, type SeedUser } from './support/webphone-seed.js';

const ann: SeedUser = {
  domain: 'lan.example.test',
  ext: '5001',
  email: 'ann@lan.example.test',
  password: 'ann-lan-secret-1',
  name: 'Ann',
};

describe('web phone from a non-secure origin', () => {
  let handset: HandsetProcess;
  let browser: Browser;
  let dataDir: string;
  let url: string;

  beforeAll(async () => {
    const seeded = await seedWebphoneUsers([ann]);
    dataDir = seeded.dataDir;
    handset = await startHandset(seeded.env);
    url = `http://phone.lan.test:${handset.httpPort}/`;
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [...chromiumArgs, '--host-resolver-rules=MAP phone.lan.test 127.0.0.1'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await handset?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps the e-mail after a refused sign-in, then says calls need HTTPS and does not start one', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 780 } });
    const page = await context.newPage();
    await page.goto(url);
    expect(await page.evaluate(() => window.isSecureContext)).toBe(false);

    await page.getByLabel('Email').fill(ann.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /^Sign-in failed: / })
      .waitFor({ timeout: 10_000 });
    expect(await page.getByLabel('Email').inputValue()).toBe(ann.email);
    expect(await page.getByLabel('Password').inputValue()).toBe('');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('password');

    await page.getByLabel('Password').fill(ann.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Registered$/ })
      .waitFor({ timeout: 20_000 });
    const notice = page.getByRole('alert');
    await expect(notice.textContent()).resolves.toMatch(
      new RegExp(
        `^Calls need HTTPS: this page was opened from http://phone\\.lan\\.test:${handset.httpPort}.*HANDSET_TLS=self-signed`,
      ),
    );
    await page.getByLabel('Number').fill('5002');
    await page.getByRole('button', { name: 'Call', exact: true }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Calls need HTTPS/ })
      .waitFor({ timeout: 5000 });
    expect(await page.getByText('Calling…').count()).toBe(0);
    expect(await page.getByRole('navigation').count()).toBe(1);
    await context.close();
  });
});
