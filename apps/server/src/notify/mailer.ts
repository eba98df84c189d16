/**
 * Outgoing mail (password resets, notices): a {@link Mailer} interface, and its SMTP
 * implementation over nodemailer for `HANDSET_SMTP_URL` (`smtp://user:pass@host:port`,
 * `smtps://...` for implicit TLS; nodemailer's query options such as `?tls.rejectUnauthorized=false`
 * pass through).
 */
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';

/** One message to one recipient. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string | undefined;
}

/** Sends mail; rejects with a {@link MailError} when the message was not accepted. */
export interface Mailer {
  send(msg: MailMessage): Promise<void>;
}

/** Why a message was not sent. */
export class MailError extends Error {
  override readonly name = 'MailError';
  constructor(
    readonly code: 'BAD_RECIPIENT' | 'SEND_FAILED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Options of {@link createSmtpMailer}. */
export interface SmtpMailerOptions {
  /** The From address, e.g. `Handset <noreply@example.com>` (HANDSET_MAIL_FROM). */
  from: string;
  logger?: Logger | undefined;
  /** Connect, greeting and socket timeout (default 10 s), so a dead server cannot hang a request. */
  timeoutMs?: number | undefined;
}

/** One plain address: no display name, list, or line break (it comes from stored user data). */
const SINGLE_ADDRESS = /^[^\s@,;<>"]+@[^\s@,;<>"]+$/;

/** A Mailer over SMTP; `close()` ends pooled connections. */
export function createSmtpMailer(url: string, o: SmtpMailerOptions): Mailer & { close(): void } {
  const timeout = o.timeoutMs ?? 10_000;
  // Transport options beside the URL (the second argument holds message defaults only).
  const transport = nodemailer.createTransport(
    { url, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout },
    { from: o.from },
  );
  return {
    async send(msg) {
      if (!SINGLE_ADDRESS.test(msg.to)) throw new MailError('BAD_RECIPIENT', 'the recipient must be one plain address');
      try {
        await transport.sendMail({ to: msg.to, subject: msg.subject, text: msg.text, html: msg.html });
      } catch (err) {
        o.logger?.warn({ err: (err as Error).message }, 'mail not sent');
        throw new MailError('SEND_FAILED', `mail not sent: ${(err as Error).message}`, { cause: err });
      }
    },
    close: () => transport.close(),
  };
}
