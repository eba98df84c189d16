/**
 * Calls to ring groups through a whole Handset over real sockets on 127.0.0.1: a group's
 * extension rings its registered, active members at once (simultaneous) or one after another
 * for the group's ring time each (sequential); the first to answer wins and the others are
 * cancelled (RFC 3261 §16.7 step 10).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PRINCIPAL } from '../directory/principal.js';
import type { Cdr } from '../proxy/cdr.js';
import { eventually, TestHandset } from './testing/test-handset.js';
import type { TestUa } from './testing/test-ua.js';

const DOMAIN = 'groups.test';
const PASSWORD = 'correct-horse-3';

describe('ring groups over real sockets', () => {
  let h: TestHandset;
  let domainId: string;
  let next = 2000;
  const opened: TestUa[] = [];
  const cdrs: Cdr[] = [];

  async function newUser(): Promise<{ ext: string; id: string }> {
    const ext = String(next++);
    const u = await h.server.services.users.create(CLI_PRINCIPAL, domainId, { ext, extPassword: PASSWORD });
    return { ext, id: u.id };
  }
  async function phone(ext: string): Promise<TestUa> {
    const u = await h.ua('udp', ext, DOMAIN, PASSWORD, { userAgent: `member-${ext}` });
    opened.push(u);
    expect((await u.register({ expires: 300 })).status).toBe(200);
    return u;
  }
  async function group(strategy: 'simultaneous' | 'sequential', members: string[], ringTimeoutS = 1): Promise<string> {
    const ext = String(next++);
    const g = await h.server.services.groups.create(CLI_PRINCIPAL, domainId, {
      name: `g${ext}`,
      ext,
      strategy,
      ringTimeoutS,
    });
    await h.server.services.groups.setMembers(CLI_PRINCIPAL, g.id, members);
    return ext;
  }

  beforeAll(async () => {
    h = await TestHandset.start({ env: { HANDSET_RING_TIMEOUT_S: '20' } });
    await h.provision(DOMAIN, {});
    domainId = await h.server.services.domains.idOf(CLI_PRINCIPAL, DOMAIN);
    h.server.calls.on('ended', (c) => cdrs.push(c));
  }, 60_000);
  afterEach(() => {
    for (const u of opened.splice(0)) u.close();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('simultaneous: all three members ring, the first to answer gets the call, the others are cancelled', async () => {
    const caller = await newUser();
    const m = [await newUser(), await newUser(), await newUser()];
    const ext = await group(
      'simultaneous',
      m.map((u) => u.id),
    );
    const a = await phone(caller.ext);
    const [p1, p2, p3] = [await phone(m[0]!.ext), await phone(m[1]!.ext), await phone(m[2]!.ext)];
    p1.invitePolicy = 'ring';
    p2.invitePolicy = { status: 200, delayMs: 300 };
    p3.invitePolicy = 'ring';

    const tx = await a.invite(ext);
    await Promise.all([p1.waitForRequest('INVITE'), p2.waitForRequest('INVITE'), p3.waitForRequest('INVITE')]);
    const ok = await tx.final();
    expect(ok.status).toBe(200);
    expect((ok.contacts as Array<{ uri: string }>)[0]!.uri).toBe(p2.contactUri);
    await Promise.all([p1.waitForRequest('CANCEL'), p3.waitForRequest('CANCEL')]);
    expect(p2.requests('CANCEL')).toEqual([]);

    const dialog = a.dialogFrom(tx.request, ok);
    a.ack(dialog);
    expect((await a.bye(dialog)).status).toBe(200);
    await eventually(() => cdrs.some((c) => c.callId === dialog.callId), 5000, 'CDR');
    const cdr = cdrs.find((c) => c.callId === dialog.callId)!;
    expect(cdr).toMatchObject({
      disposition: 'answered',
      callee: `${ext}@${DOMAIN}`,
      caller: `${caller.ext}@${DOMAIN}`,
    });
    expect(cdr.calleeDevice).toContain(`member-${m[1]!.ext}`);
  });

  it('sequential: members ring one after another for the ring time each, and the third answers', async () => {
    const caller = await newUser();
    const m = [await newUser(), await newUser(), await newUser()];
    const ext = await group(
      'sequential',
      m.map((u) => u.id),
      1,
    );
    const a = await phone(caller.ext);
    const [p1, p2, p3] = [await phone(m[0]!.ext), await phone(m[1]!.ext), await phone(m[2]!.ext)];
    p3.invitePolicy = { status: 200, delayMs: 100 };

    const started = Date.now();
    const tx = await a.invite(ext);
    await p1.waitForRequest('INVITE');
    // Only the first member rings during its turn.
    await new Promise((r) => setTimeout(r, 500));
    expect(p2.requests('INVITE')).toEqual([]);
    expect(p3.requests('INVITE')).toEqual([]);
    await p2.waitForRequest('INVITE', undefined, 3000);
    const secondAt = Date.now() - started;
    await p1.waitForRequest('CANCEL');
    expect(secondAt).toBeGreaterThanOrEqual(900);
    await p3.waitForRequest('INVITE', undefined, 3000);
    await p2.waitForRequest('CANCEL');
    const thirdAt = Date.now() - started;
    expect(thirdAt).toBeGreaterThanOrEqual(1800);

    const ok = await tx.final(5000);
    expect(ok.status).toBe(200);
    expect((ok.contacts as Array<{ uri: string }>)[0]!.uri).toBe(p3.contactUri);
    // The cancelled turns' 487s never reach the caller.
    await new Promise((r) => setTimeout(r, 100));
    expect(tx.responses.filter((r) => r.status >= 200).map((r) => r.status)).toEqual([200]);
    const dialog = a.dialogFrom(tx.request, ok);
    a.ack(dialog);
    expect((await a.bye(dialog)).status).toBe(200);
  });

  it('sequential: a busy member passes the call on at once, and all busy gives the caller 486', async () => {
    const caller = await newUser();
    const m = [await newUser(), await newUser()];
    const ext = await group(
      'sequential',
      m.map((u) => u.id),
      5,
    );
    const a = await phone(caller.ext);
    const [p1, p2] = [await phone(m[0]!.ext), await phone(m[1]!.ext)];
    p1.invitePolicy = { status: 486 };
    p2.invitePolicy = { status: 486 };
    const started = Date.now();
    const tx = await a.invite(ext);
    const final = await tx.final(5000);
    expect(final.status).toBe(486);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(p2.requests('INVITE')).toHaveLength(1);
  });

  it('skips inactive and unregistered members, and an inactive group is not found', async () => {
    const caller = await newUser();
    const [inactive, offline, online] = [await newUser(), await newUser(), await newUser()];
    const ext = await group('simultaneous', [inactive.id, offline.id, online.id]);
    await h.server.services.users.update(CLI_PRINCIPAL, inactive.id, { active: false });
    const a = await phone(caller.ext);
    const pOn = await phone(online.ext);
    pOn.invitePolicy = { status: 200, delayMs: 50 };
    const tx = await a.invite(ext);
    const ok = await tx.final();
    expect(ok.status).toBe(200);
    a.ack(a.dialogFrom(tx.request, ok));
    expect((await a.bye(a.dialogFrom(tx.request, ok))).status).toBe(200);

    const empty = await group('simultaneous', [offline.id]);
    expect((await (await a.invite(empty)).final()).status).toBe(480);

    const gid = (await h.server.services.groups.list(CLI_PRINCIPAL, { keyword: ext })).docs[0]!.id;
    await h.server.services.groups.update(CLI_PRINCIPAL, gid, { active: false });
    expect((await (await a.invite(ext)).final()).status).toBe(404);
  });
});
