/**
 * What must outlive the process: bindings (kept in the store, reloaded on start, still
 * expiring on time) and CDR rows.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CdrRepository } from '../proxy/cdr-repository.js';
import { openStore } from '../store/open-store.js';
import { eventually, TestHandset } from './testing/test-handset.js';

const DOMAIN = 'restart.test';
const PASSWORD = 'correct-horse-3';
const ENV = { HANDSET_REG_MIN_EXPIRES: '2' };

describe('Handset across a restart', { timeout: 60_000 }, () => {
  let h: TestHandset | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a binding survives a restart and an INVITE reaches it; a short one still expires on time', async () => {
    h = await TestHandset.start({ env: ENV });
    await h.provision(DOMAIN, { '1': PASSWORD, '2': PASSWORD, '3': PASSWORD });
    const bob = await h.ua('udp', '2', DOMAIN, PASSWORD);
    const brief = await h.ua('udp', '3', DOMAIN, PASSWORD);
    expect((await bob.register({ expires: 300 })).status).toBe(200);
    expect((await brief.register({ expires: 4 })).status).toBe(200);
    const briefExpiresAt = h.server.location.lookup(`3@${DOMAIN}`)[0]!.expiresAt;

    await h.restart();

    const [stored] = h.server.location.lookup(`2@${DOMAIN}`);
    expect(stored?.contactUri).toBe(bob.contactUri);
    expect(stored!.expiresAt - Date.now()).toBeGreaterThan(290_000);
    // Reloaded with its original expiry, not a fresh one (unless it has already run out).
    const reloaded = h.server.location.lookup(`3@${DOMAIN}`);
    if (Date.now() < briefExpiresAt - 300) expect(reloaded.map((b) => b.expiresAt)).toEqual([briefExpiresAt]);

    // The server's ports changed (port 0): the caller is new, the callee is the same socket.
    const alice = await h.ua('udp', '1', DOMAIN, PASSWORD);
    bob.invitePolicy = { status: 200 };
    const tx = await alice.invite('2');
    const inv = await bob.waitForRequest('INVITE');
    expect(inv.callId).toBe(tx.request.callId);
    const ok = await tx.final();
    expect(ok.status).toBe(200);
    const dialog = alice.dialogFrom(tx.request, ok);
    alice.ack(dialog);
    expect((await alice.bye(dialog)).status).toBe(200);

    await eventually(() => h!.server.location.lookup(`3@${DOMAIN}`).length === 0, 5000, 'expiry of the brief binding');
    expect(Date.now()).toBeGreaterThanOrEqual(briefExpiresAt);
    // The sweep also removes it from the store: a second restart does not bring it back.
    await eventually(() => h!.server.location.size === 1, 5000, 'sweep');
    await h.restart();
    expect(h.server.location.lookup(`3@${DOMAIN}`)).toEqual([]);
    expect(h.server.location.lookup(`2@${DOMAIN}`)).toHaveLength(1);
  });

  it('an expired binding is not brought back by a restart', async () => {
    h = await TestHandset.start({ env: ENV });
    await h.provision(DOMAIN, { '4': PASSWORD });
    const phone = await h.ua('udp', '4', DOMAIN, PASSWORD);
    expect((await phone.register({ expires: 2 })).status).toBe(200);
    await h.stop();
    await new Promise((r) => setTimeout(r, 2100));
    await h.restart();
    expect(h.server.location.lookup(`4@${DOMAIN}`)).toEqual([]);
    expect(h.server.location.size).toBe(0);
  });

  it('an unregister just before the shutdown is not undone by the restart', async () => {
    h = await TestHandset.start({ env: ENV });
    await h.provision(DOMAIN, { '5': PASSWORD });
    const phone = await h.ua('tcp', '5', DOMAIN, PASSWORD);
    expect((await phone.register({ expires: 300 })).status).toBe(200);
    expect((await phone.register({ expires: 0 })).status).toBe(200);
    await h.restart();
    expect(h.server.location.lookup(`5@${DOMAIN}`)).toEqual([]);
  });

  it('a shutdown with a WebSocket client connected completes promptly', async () => {
    h = await TestHandset.start({ env: ENV });
    await h.provision(DOMAIN, { '6': PASSWORD });
    const browser = await h.ua('ws', '6', DOMAIN, PASSWORD);
    expect((await browser.register({ expires: 300 })).status).toBe(200);
    const stopped = await Promise.race([
      h.stop().then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 3000)),
    ]);
    if (!stopped) browser.close(); // let the hung close finish so the test can clean up
    expect(stopped, 'server.close() waited for the WebSocket client to leave').toBe(true);
  });

  it('a WebSocket binding does not come back after a restart (its connection died with the process)', async () => {
    h = await TestHandset.start({ env: ENV });
    await h.provision(DOMAIN, { '6': PASSWORD, '7': PASSWORD });
    const browser = await h.ua('ws', '6', DOMAIN, PASSWORD);
    const desk = await h.ua('udp', '7', DOMAIN, PASSWORD);
    expect((await browser.register({ expires: 300 })).status).toBe(200);
    expect((await desk.register({ expires: 300 })).status).toBe(200);
    await h.restart();
    expect(h.server.location.lookup(`6@${DOMAIN}`)).toEqual([]);
    expect(h.server.location.lookup(`7@${DOMAIN}`)).toHaveLength(1);
    expect(await h.metric('handset_registrations')).toBe(1);
  });

  it('the CDR of a finished call is in the database after shutdown', async () => {
    h = await TestHandset.start({ env: ENV });
    await h.provision(DOMAIN, { '1': PASSWORD, '2': PASSWORD });
    const alice = await h.ua('tcp', '1', DOMAIN, PASSWORD);
    const bob = await h.ua('udp', '2', DOMAIN, PASSWORD);
    expect((await bob.register({ expires: 300 })).status).toBe(200);
    bob.invitePolicy = { status: 200, delayMs: 50 };
    const tx = await alice.invite('2');
    const ok = await tx.final();
    expect(ok.status).toBe(200);
    const dialog = alice.dialogFrom(tx.request, ok);
    alice.ack(dialog);
    await new Promise((r) => setTimeout(r, 200));
    expect((await alice.bye(dialog)).status).toBe(200);
    // A second attempt that is still ringing at shutdown is written too, as ended by the system.
    bob.invitePolicy = 'ring';
    const ringing = await alice.invite('2');
    await ringing.waitResponse((r) => r.status >= 180).catch(() => undefined);
    await h.stop();

    const store = await openStore(h.config);
    try {
      const rows = await new CdrRepository(store).list({ domain: DOMAIN, limit: 10 });
      const answered = rows.find((r) => r.callId === dialog.callId);
      expect(answered).toMatchObject({
        caller: `1@${DOMAIN}`,
        callee: `2@${DOMAIN}`,
        disposition: 'answered',
        sipStatus: 200,
        hangupBy: 'caller',
      });
      expect(answered!.billableS).toBeGreaterThanOrEqual(0.15);
      expect(answered!.durationS).toBeGreaterThanOrEqual(answered!.billableS);
      expect(answered!.answeredAt!.getTime()).toBeGreaterThanOrEqual(answered!.startedAt.getTime());
      expect(answered!.endedAt.getTime()).toBeGreaterThanOrEqual(answered!.answeredAt!.getTime());
      const cut = rows.find((r) => r.callId === ringing.request.callId);
      expect(cut).toBeDefined();
      expect(cut!.answeredAt).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
