import { once } from 'node:events';
import type { AddressInfo, Server } from 'node:net';
import { generate } from 'selfsigned';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { createSmtpMailer, MailError, type Mailer } from './mailer.js';

interface Received {
  from: string | undefined;
  to: string[];
  user: string | undefined;
  raw: string;
}

/** A real SMTP server on 127.0.0.1 that accepts one account and records each message. */
async function startSmtp(
  over: Partial<SMTPServerOptions> = {},
): Promise<{ port: number; got: Received[]; server: SMTPServer }> {
  const got: Received[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'mailer' && auth.password === 'p@ss:word') cb(null, { user: 'mailer' });
      else cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      let raw = '';
      stream.on('data', (d: Buffer) => (raw += d.toString()));
      stream.on('end', () => {
        got.push({
          from: session.envelope.mailFrom === false ? undefined : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          raw,
        });
        cb();
      });
    },
    ...over,
  });
  const port = await new Promise<number>((resolve) => {
    // @types/smtp-server types listen() with a net.Server that the lint project cannot resolve.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
    const listening: Server = server.listen(0, '127.0.0.1', () => resolve((listening.address() as AddressInfo).port));
  });
  return { port, got, server };
}

/** The URL of the test server's account (the password has characters that need encoding). */
const goodUrl = (port: number) => `smtp://mailer:${encodeURIComponent('p@ss:word')}@127.0.0.1:${port}`;

const servers: SMTPServer[] = [];
const mailers: Array<Mailer & { close(): void }> = [];
afterEach(async () => {
  for (const m of mailers.splice(0)) m.close();
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

describe('createSmtpMailer', () => {
  it('authenticates and delivers text and HTML from HANDSET_MAIL_FROM', async () => {
    const smtp = await startSmtp();
    servers.push(smtp.server);
    const mailer = createSmtpMailer(goodUrl(smtp.port), {
      from: 'Handset <noreply@a.example>',
    });
    mailers.push(mailer);
    await mailer.send({
      to: 'alice@a.example',
      subject: 'Your new password',
      text: 'It is hunter2.',
      html: '<p>It is <b>hunter2</b>.</p>',
    });
    expect(smtp.got).toHaveLength(1);
    const m = smtp.got[0]!;
    expect(m).toMatchObject({ from: 'noreply@a.example', to: ['alice@a.example'], user: 'mailer' });
    expect(m.raw).toMatch(/^Subject: Your new password\r$/m);
    expect(m.raw).toMatch(/^From: Handset <noreply@a\.example>\r$/m);
    expect(m.raw).toContain('It is hunter2.');
    expect(m.raw).toContain('text/html');
  });

  it('speaks implicit TLS for smtps://', async () => {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', curve: 'P-256' });
    const smtp = await startSmtp({ secure: true, key: pems.private, cert: pems.cert, allowInsecureAuth: false });
    servers.push(smtp.server);
    const mailer = createSmtpMailer(
      `smtps://mailer:${encodeURIComponent('p@ss:word')}@127.0.0.1:${smtp.port}/?tls.rejectUnauthorized=false`,
      { from: 'noreply@a.example' },
    );
    mailers.push(mailer);
    await mailer.send({ to: 'bob@a.example', subject: 'TLS', text: 'over TLS' });
    expect(smtp.got[0]?.raw).toContain('over TLS');
  });

  it('fails with SEND_FAILED on wrong credentials, a refused connection or a silent server', async () => {
    const smtp = await startSmtp();
    servers.push(smtp.server);
    const wrong = createSmtpMailer(`smtp://mailer:nope@127.0.0.1:${smtp.port}`, { from: 'noreply@a.example' });
    mailers.push(wrong);
    const e1 = await wrong.send({ to: 'a@a.example', subject: 's', text: 't' }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(MailError);
    expect((e1 as MailError).code).toBe('SEND_FAILED');

    const { createServer } = await import('node:net');
    const silent = createServer(() => {}); // accepts, never greets
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const port = (silent.address() as { port: number }).port;
    try {
      const hang = createSmtpMailer(`smtp://127.0.0.1:${port}`, { from: 'noreply@a.example', timeoutMs: 300 });
      mailers.push(hang);
      const started = Date.now();
      const e2 = await hang.send({ to: 'a@a.example', subject: 's', text: 't' }).catch((e: unknown) => e);
      expect((e2 as MailError).code).toBe('SEND_FAILED');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      silent.close();
    }
    const refused = createSmtpMailer(`smtp://127.0.0.1:${port}`, { from: 'noreply@a.example', timeoutMs: 300 });
    mailers.push(refused);
    expect(
      ((await refused.send({ to: 'a@a.example', subject: 's', text: 't' }).catch((e: unknown) => e)) as MailError).code,
    ).toBe('SEND_FAILED');
    expect(smtp.got).toHaveLength(0);
  });

  it('refuses lists and header tricks in the recipient, and keeps a subject on one header line', async () => {
    const smtp = await startSmtp();
    servers.push(smtp.server);
    const mailer = createSmtpMailer(goodUrl(smtp.port), {
      from: 'noreply@a.example',
    });
    mailers.push(mailer);
    for (const to of [
      'a@a.example, b@b.example',
      'a@a.example\r\nBcc: evil@b.example',
      'Eve <eve@b.example>',
      'nobody',
    ]) {
      const err = await mailer.send({ to, subject: 's', text: 't' }).catch((e: unknown) => e);
      expect((err as MailError).code, to).toBe('BAD_RECIPIENT');
    }
    await mailer.send({ to: 'a@a.example', subject: 'Hi\r\nBcc: evil@b.example', text: 't' });
    expect(smtp.got).toHaveLength(1);
    expect(smtp.got[0]!.to).toEqual(['a@a.example']);
    expect(smtp.got[0]!.raw).not.toMatch(/^Bcc:/im);
  });
});
