/**
 * A child process for builtin-prototypes.test.ts (run with --allow-natives-syntax): starts a whole
 * Handset as the tests do, then prints which builtin prototypes V8 keeps in dictionary mode. With
 * argv `ioredis`, it loads ioredis first, which is known to do it to String.prototype.
 */
import { TestHandset } from '../../sip/testing/test-handset.js';

// V8's own check, written in its natives syntax (which TypeScript cannot parse, hence the Function constructor).
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;

if (process.argv[2] === 'ioredis') await import('ioredis');
const server = await TestHandset.start();
const prototypes: Record<string, object> = {
  String: String.prototype,
  Array: Array.prototype,
  Object: Object.prototype,
  Function: Function.prototype,
  Map: Map.prototype,
  Set: Set.prototype,
  RegExp: RegExp.prototype,
  Number: Number.prototype,
  Promise: Promise.prototype,
  Uint8Array: Uint8Array.prototype,
  TypedArray: Object.getPrototypeOf(Uint8Array.prototype) as object,
  Buffer: Buffer.prototype as object,
  Error: Error.prototype,
};
const slow = Object.keys(prototypes).filter((name) => !hasFastProperties(prototypes[name]!));
await server.close();
process.stdout.write(`${JSON.stringify({ slow })}\n`);
