import { isIP } from 'node:net';
import { DirectoryError } from './directory-error.js';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const EXT = /^[A-Za-z0-9._+-]{1,32}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
// C0/C1 controls and DEL: kept out of names and passwords so they cannot corrupt logs or tables.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Field rules of the directory; each returns the normalized value or throws INVALID_INPUT. */
export const directoryValidation = {
  /** Lowercased hostname or IP address (IPv6 without brackets). */
  domain(input: string): string {
    const raw = input.trim().toLowerCase();
    const unbracketed = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : raw;
    if (isIP(unbracketed) !== 0) return unbracketed;
    const labels = raw.split('.');
    const ok =
      raw.length > 0 &&
      raw.length <= 253 &&
      labels.every((l) => LABEL.test(l)) &&
      // "1.2.3" is neither an IPv4 address nor a hostname (a top label is never all digits).
      !/^[0-9]+$/.test(labels[labels.length - 1] ?? '');
    if (!ok) throw invalid(`invalid domain "${clip(input)}" (expected a hostname or IP address)`);
    return raw;
  },

  /** Extension (SIP user part): 1-32 of A-Z a-z 0-9 . _ - +; case is kept. */
  ext(input: string): string {
    const ext = input.trim();
    if (!EXT.test(ext)) throw invalid(`invalid extension "${clip(input)}" (1-32 characters of A-Z a-z 0-9 . _ - +)`);
    return ext;
  },

  /** SIP password: non-empty, at most 128 characters, no control characters. Never echoed. */
  password(input: string): string {
    if (input.length === 0) throw invalid('password must not be empty');
    if (input.length > 128) throw invalid('password must be at most 128 characters');
    if (CONTROL.test(input)) throw invalid('password must not contain control characters');
    return input;
  },

  /** Display name: trimmed, at most 200 characters; empty means none. */
  name(input: string | undefined): string | undefined {
    const name = input?.trim();
    if (!name) return undefined;
    if (name.length > 200) throw invalid('name must be at most 200 characters');
    if (CONTROL.test(name)) throw invalid('name must not contain control characters');
    return name;
  },

  /** E-mail address, lowercased; empty means none. */
  email(input: string | undefined): string | undefined {
    const email = input?.trim().toLowerCase();
    if (!email) return undefined;
    if (email.length > 254 || !EMAIL.test(email)) throw invalid(`invalid email "${clip(input ?? '')}"`);
    return email;
  },
};

function invalid(message: string): DirectoryError {
  return new DirectoryError('INVALID_INPUT', message);
}

/** Keeps echoed input short and printable. */
function clip(s: string): string {
  // eslint-disable-next-line no-control-regex
  const printable = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return printable.length > 64 ? `${printable.slice(0, 61)}...` : printable;
}
