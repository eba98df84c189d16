/**
 * V8 compiles `s.charCodeAt(i)` in the SIP parser to a direct call only while String.prototype keeps
 * fast (non-dictionary) properties; once it is in dictionary mode every such call goes through a
 * generic property load. A dependency that subclasses a builtin (ioredis 6's
 * `class VerbatimString extends String`) puts the builtin's prototype in that mode for the whole
 * process: in `register-inproc` the generic loads were 10% of the main thread. This checks that a
 * started Handset leaves every hot builtin prototype fast.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('./testing/prototype-shapes.ts', import.meta.url));

async function slowPrototypes(...args: string[]): Promise<string[]> {
  const { stdout } = await run(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', fixture, ...args], {
    timeout: 60_000,
  });
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return (JSON.parse(last) as { slow: string[] }).slow;
}

describe('builtin prototypes in a running server', () => {
  it('stay in fast mode once Handset has started', async () => {
    expect(await slowPrototypes()).toEqual([]);
  }, 60_000);

  it('are reported when a dependency subclasses one (ioredis, loaded only for REDIS_URL)', async () => {
    expect(await slowPrototypes('ioredis')).toEqual(['String']);
  }, 60_000);
});
