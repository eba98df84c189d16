/**
 * Password reset end to end: a running Handset with HANDSET_SMTP_URL set mails the new sign-in
 * password through a real SMTP server started here, and that password signs in over HTTP.
 */
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PRINCIPAL } from '../directory/principal.js';
import { eventually, TestHandset } from '../sip/testing/test-handset.js';

describe('password reset through SMTP', () => {
  let h: TestHandset;
  let smtp: SMTPServer;
  const received: Array<{ to: string[]; raw: string }> = [];
  let base = '';

  beforeAll(async () => {
    smtp = new SMTPServer({
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      logger: false,
      onAuth(auth, _session, cb) {
        if (auth.username === 'handset' && auth.password === 'smtp-secret') cb(null, { user: 'handset' });
        else cb(new Error('Invalid username or password'));
      },
      onData(stream, session, cb) {
        let raw = '';
        stream.on('data', (d: Buffer) => (raw += d.toString()));
        stream.on('end', () => {
          received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
          cb();
        });
      },
    });
    const port = await new Promise<number>((resolve) => {
      // @types/smtp-server types .server with a net.Server that the lint project cannot resolve.
      // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
      const server: import('node:net').Server = smtp.server;
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
    h = await TestHandset.start({
      env: { HANDSET_SMTP_URL: `smtp://handset:smtp-secret@127.0.0.1:${port}`, HANDSET_MAIL_FROM: 'pbx@reset.test' },
    });
    base = `http://127.0.0.1:${h.server.httpPort}`;
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await new Promise<void>((resolve) => smtp?.close(() => resolve()));
  });

  it('an owner resets an agent password; the mail arrives over SMTP and its password signs in', async () => {
    const s = h.server.services;
    const domain = await s.domains.create(CLI_PRINCIPAL, { domain: 'reset.test' });
    const owner = await s.users.create(CLI_PRINCIPAL, domain.id, {
      ext: '100',
      extPassword: 'sip-secret-100',
      email: 'owner@reset.test',
      password: 'owner-signs-in-1',
      role: 'owner',
    });
    const agent = await s.users.create(CLI_PRINCIPAL, domain.id, {
      ext: '101',
      extPassword: 'sip-secret-101',
      email: 'agent@reset.test',
      password: 'forgotten-password-1',
    });
    const { token } = await s.tokens.create(CLI_PRINCIPAL, owner.id, 'test');

    const reset = await fetch(`${base}/api/v1/users/${agent.id}/password-reset`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(reset.status).toBe(200);
    await eventually(() => received.length > 0, 10_000, 'the reset mail');
    const mail = received[0]!;
    expect(mail.to).toEqual(['agent@reset.test']);
    expect(mail.raw).toMatch(/^From: .*pbx@reset\.test/m);
    // The new password stands alone between blank lines (as the API test reads it from the mailer).
    const text = mail.raw.replace(/\r\n/g, '\n').replace(/=\n/g, '');
    const body = text.slice(text.indexOf('\n\n') + 2);
    const password = /\n\n(\S+)\n\n/.exec(body)?.[1];
    expect(password).toBeDefined();
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'agent@reset.test', password }),
    });
    expect(login.status).toBe(200);
    const old = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'agent@reset.test', password: 'forgotten-password-1' }),
    });
    expect(old.status).toBe(401);
  });
});
