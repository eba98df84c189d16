/** What the adapter WebSocket sessions share: close codes, the peer record, Error frames. */
import type { ErrorFrame } from '@handset/device-adapter';
import type { RawData, WebSocket } from 'ws';
import { AdapterProtocolError } from './adapter-error.js';

/** Close codes (RFC 6455 §7.4.1, plus the 4000 private range). */
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_UNSUPPORTED_DATA = 1003;
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_TOKEN_REVOKED = 4001;
export const CLOSE_REPLACED = 4002;
export const CLOSE_NO_REGISTER = 4003;
export const CLOSE_REMOVED = 4004;
/** Failed Identify frames one session may send before it is closed. */
export const MAX_IDENTIFY_FAILURES = 10;

/** A session's common state. */
export interface Peer {
  ws: WebSocket;
  ip: string;
  alive: boolean;
  frames: number;
  windowAt: number;
  /** Set once the frames-per-second limit was reported in the current window. */
  warned: boolean;
}

/** @internal */
export function sendError(ws: WebSocket, code: ErrorFrame['code'], message: string): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ mt: 'Error', code, message } satisfies ErrorFrame));
}

/** @internal */
export function unknownMt(mt: string, known: string[]): AdapterProtocolError {
  return new AdapterProtocolError(
    'UNKNOWN_MT',
    `unknown mt "${mt.slice(0, 40).replace(/[^\x20-\x7e]/g, '?')}"; this session takes ${known.join(', ')}`,
  );
}

/** @internal */
export function isToken(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 128;
}

/** @internal */
export function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** @internal */
export function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x20 || s.charCodeAt(i) === 0x7f) return true;
  return false;
}
