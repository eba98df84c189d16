/**
 * Sends the RFC 4475 torture messages to a running Handset over UDP, TCP and WebSocket, as they
 * are, and collects the status lines that come back (for hostile.integration.test.ts).
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import WebSocket from 'ws';

/** One manifest entry, as far as the transport test needs it. */
export interface TortureEntry {
  readonly name: string;
  readonly file: string;
  readonly kind: 'request' | 'response';
}

const FIXTURES = new URL('../../../../packages/sip/test-fixtures/rfc4475/', import.meta.url);

/** The RFC 4475 messages with their bytes. */
export function tortureMessages(): Array<{ entry: TortureEntry; data: Buffer }> {
  const manifest = JSON.parse(readFileSync(new URL('manifest.json', FIXTURES), 'utf8')) as { messages: TortureEntry[] };
  return manifest.messages.map((entry) => ({ entry, data: readFileSync(new URL(entry.file, FIXTURES)) }));
}

/** Waits until `text()` holds a final status (then 150 ms more for what follows) or `waitMs` pass. */
async function settle(text: () => string, waitMs: number): Promise<void> {
  const end = Date.now() + waitMs;
  while (Date.now() < end) {
    if (statusesIn(text()).some((s) => s >= 200)) {
      await new Promise((r) => setTimeout(r, 150));
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The status codes in `text`, in order. */
export function statusesIn(text: string): number[] {
  return [...text.matchAll(/(?:^|\n)SIP\/2\.0 (\d{3}) /g)].map((m) => Number(m[1]));
}

/**
 * Over UDP the answer goes by the top Via, which names the RFC's hosts: a Via of ours goes on top
 * (so the answer comes back) unless the top Via is what the message is about (it cannot be read:
 * then the answer goes to the source address).
 */
export async function sendUdp(port: number, data: Buffer, ownVia: boolean, waitMs: number): Promise<number[]> {
  const sock = createSocket('udp4');
  let text = '';
  sock.on('message', (m) => (text += m.toString('latin1') + '\n'));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const local = sock.address().port;
  let out = data;
  if (ownVia) {
    const eol = data.indexOf('\r\n');
    out = Buffer.concat([
      data.subarray(0, eol + 2),
      Buffer.from(`Via: SIP/2.0/UDP 127.0.0.1:${local};rport;branch=z9hG4bKtorture${local}\r\n`),
      data.subarray(eol + 2),
    ]);
  }
  sock.send(out, port, '127.0.0.1');
  await settle(() => text, waitMs);
  sock.close();
  return statusesIn(text);
}

/** Sends the bytes on a new TCP connection and collects what comes back within `waitMs` (or until closed). */
export async function sendTcp(port: number, data: Buffer, waitMs: number): Promise<number[]> {
  const sock = connect({ host: '127.0.0.1', port });
  let text = '';
  sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
  sock.on('error', () => {});
  await new Promise<void>((r) => sock.once('connect', r));
  sock.write(data);
  let closed = false;
  sock.once('close', () => (closed = true));
  await settle(() => (closed ? 'SIP/2.0 999 closed\n' : text), waitMs);
  sock.destroy();
  return statusesIn(text);
}

/** Sends the bytes as one WebSocket message (RFC 7118) and collects what comes back within `waitMs`. */
export async function sendWs(port: number, data: Buffer, waitMs: number): Promise<number[]> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/sip`, 'sip');
  let text = '';
  ws.on('message', (d: Buffer) => (text += d.toString('latin1') + '\n'));
  ws.on('error', () => {});
  await new Promise<void>((r) => ws.once('open', () => r()));
  ws.send(data);
  await settle(() => text, waitMs);
  ws.terminate();
  return statusesIn(text);
}
