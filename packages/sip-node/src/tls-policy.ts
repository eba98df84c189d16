/**
 * The TLS settings every Handset listener and outbound connection uses (SIP over TLS, HTTPS and
 * WSS): TLS 1.2 at least (RFC 8996 deprecates 1.0 and 1.1; RFC 9325 §3.1.1), and for TLS 1.2 only
 * forward-secret AEAD suites (RFC 9325 §4.2: ECDHE with AES-GCM or ChaCha20-Poly1305). TLS 1.3
 * suites are Node's defaults, all AEAD.
 */
import type { SecureContextOptions } from 'node:tls';

/** OpenSSL cipher list for TLS 1.2. */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** Protocol floor and ciphers, for createServer, connect and createSecureContext. */
export const TLS_POLICY: Pick<SecureContextOptions, 'minVersion' | 'ciphers' | 'honorCipherOrder'> = Object.freeze({
  minVersion: 'TLSv1.2',
  ciphers: TLS12_CIPHERS,
  honorCipherOrder: true,
});
