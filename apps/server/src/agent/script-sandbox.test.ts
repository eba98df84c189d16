import { afterAll, describe, expect, it } from 'vitest';
import { ScriptSandbox } from './script-sandbox.js';

const sandbox = new ScriptSandbox({ limits: { timeoutMs: 300, memoryBytes: 16 << 20 } });
afterAll(() => sandbox.close());

describe('ScriptSandbox (QuickJS in a worker)', () => {
  it('calls main(input) and answers its value, with what it logged', async () => {
    const r = await sandbox.run(
      `function main(input) { console.log('agent', input.agent.ext, {n: 1}); return { __: { action: { name: 'save', params: [input.lead.decision] } } }; }`,
      { agent: { ext: '1001' }, lead: { decision: 'Yes' } },
    );
    expect(r).toMatchObject({
      ok: true,
      value: { __: { action: { name: 'save', params: ['Yes'] } } },
      logs: ['agent 1001 {"n":1}'],
    });
  });

  it('waits for an async main and calls another function by name', async () => {
    const r = await sandbox.run('async function other(i) { await null; return i.x * 2; }', { x: 21 }, 'other');
    expect(r).toMatchObject({ ok: true, value: 42 });
  });

  it('stops while(true){} at its time limit with a clear message, and serves the next run', async () => {
    const t0 = Date.now();
    const r = await sandbox.run('function main() { while (true) {} }', {});
    expect(r).toMatchObject({ ok: false, kind: 'timeout' });
    expect(!r.ok && r.message).toMatch(/longer than its limit of 300 ms/);
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(await sandbox.run('function main() { return 1 }', {})).toMatchObject({ ok: true, value: 1 });
  });

  it('stops a script that allocates without end at its memory limit', async () => {
    const r = await sandbox.run(
      'function main() { const a = []; for (;;) a.push({ n: a.length, s: "lead" + a.length }); }',
      {},
      'main',
      { timeoutMs: 10_000 },
    );
    expect(r).toMatchObject({ ok: false, kind: 'memory' });
    expect(!r.ok && r.message).toMatch(/more than its 16 MiB/);
  });

  it('ends the engine thread when a script outlasts its limit where the engine cannot interrupt it', async () => {
    // Near its memory limit QuickJS collects garbage on every allocation, inside one native call.
    const t0 = Date.now();
    const r = await sandbox.run(
      'function main() { const a = []; for (;;) a.push(new Array(100000).fill(a.length)); }',
      {},
    );
    expect(r).toMatchObject({ ok: false, kind: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await sandbox.run('function main() { return "still here" }', {})).toMatchObject({
      ok: true,
      value: 'still here',
    });
  });

  it.each([
    ['function main() { throw new Error("no CRM today") }', 'exception', /Error: no CRM today \(line 1\)/],
    ['function main() { return Promise.reject(new TypeError("nope")) }', 'exception', /TypeError: nope/],
    ['function main() { throw 42 }', 'exception', /the script threw 42/],
    ['function main( {', 'exception', /SyntaxError/],
    ['var x = 1;', 'exception', /defines no function main/],
    ['function main() { const a = {}; a.a = a; return a; }', 'exception', /circular|cyclic/i],
    ['function main() { return 10n }', 'exception', /BigInt/i],
    ['function f(){ return f() } function main() { return f() }', 'exception', /stack|RangeError|InternalError/i],
    ['function main() { return new Promise(() => {}) }', 'garbage', /never settled/],
    ['function main() { return "x".repeat(300000) }', 'garbage', /characters of JSON/],
  ])('reports %s as %s', async (source, kind, message) => {
    const r = await sandbox.run(source, {});
    expect(r).toMatchObject({ ok: false, kind });
    expect(!r.ok && r.message).toMatch(message);
  });

  it('gives a script no Node, network, timers or files', async () => {
    const r = await sandbox.run(
      `function main() { return [typeof require, typeof process, typeof fetch, typeof setTimeout, typeof XMLHttpRequest, typeof globalThis.std, typeof globalThis.os, typeof WebAssembly]; }`,
      {},
    );
    expect(r).toMatchObject({ ok: true, value: Array(8).fill('undefined') });
  });

  it('keeps nothing from one run to the next', async () => {
    await sandbox.run('globalThis.leak = "tenant A secret"; function main() { return 1 }', {});
    const r = await sandbox.run('function main() { return typeof leak }', {});
    expect(r).toMatchObject({ ok: true, value: 'undefined' });
  });

  it('refuses a function name that is not an identifier', async () => {
    expect(await sandbox.run('function main(){}', {}, 'main(); evil()')).toMatchObject({
      ok: false,
      kind: 'exception',
    });
  });

  it('runs several scripts queued at once, each within its own limit', async () => {
    const runs = await Promise.all([
      sandbox.run('function main() { while (true) {} }', {}),
      sandbox.run('function main(i) { return i }', 'a'),
      sandbox.run('function main() { while (true) {} }', {}),
      sandbox.run('function main(i) { return i }', 'b'),
    ]);
    expect(runs.map((r) => (r.ok ? r.value : r.kind))).toEqual(['timeout', 'a', 'timeout', 'b']);
  });
});
