// @ts-check
/**
 * The script sandbox's own thread: runs agent scripts in QuickJS compiled to WebAssembly. A
 * script sees only the ECMAScript built-ins, its input and a `console` whose lines are kept for
 * the test console: no `require`, no `process`, no timers, no network, no files. Each run gets a
 * fresh runtime with a memory limit and an interrupt deadline, disposed afterwards, so nothing
 * survives from one run (or tenant) to the next. Plain JavaScript (type-checked through JSDoc)
 * so that Node loads it as it is, from the sources in tests as from dist.
 */
import { parentPort } from 'node:worker_threads';
import { newQuickJSWASMModuleFromVariant } from 'quickjs-emscripten-core';
import releaseSync from '@jitl/quickjs-wasmfile-release-sync';

/** @typedef {import('./script-protocol.js').ScriptJob} ScriptJob */
/** @typedef {import('./script-protocol.js').ScriptOutcome} ScriptOutcome */
/** @typedef {import('quickjs-emscripten-core').QuickJSWASMModule} QuickJSWASMModule */
/** @typedef {import('quickjs-emscripten-core').QuickJSContext} QuickJSContext */

/** The variant's default export (its declarations type the module itself as the default). */
const variant = /** @type {import('quickjs-emscripten-core').QuickJSSyncVariant} */ (
  /** @type {unknown} */ (releaseSync)
);

if (parentPort === null) throw new Error('script-worker must run in a worker thread');
const port = parentPort;

/** Lines of console output kept per run, and characters per line. */
const MAX_LOG_LINES = 50;
const MAX_LOG_LINE = 500;
/** Native stack for a script (deep recursion ends as a RangeError, not a crash). */
const MAX_STACK_BYTES = 512 * 1024;

/** @type {QuickJSWASMModule} */
let engine = await newQuickJSWASMModuleFromVariant(variant);

// The engine's code is compiled lazily: one small run now, so that the first real script is not
// charged for it against its time limit.
run({
  id: 0,
  source: 'function main(i) { return JSON.stringify(i) }',
  fn: 'main',
  inputJson: '{"warm":[1]}',
  timeoutMs: 10_000,
  memoryBytes: 8 << 20,
  maxOutput: 1000,
});

port.on('message', (/** @type {ScriptJob} */ job) => {
  // The host's watchdog counts from here (not from when the run was queued).
  port.postMessage({ started: job.id });
  /** @type {ScriptOutcome} */
  let outcome;
  try {
    outcome = run(job);
  } catch (err) {
    // The engine itself failed (it should not): start from a fresh module for the next run.
    outcome = { id: job.id, ok: false, kind: 'crashed', message: 'the script engine failed', logs: [], durationMs: 0 };
    void newQuickJSWASMModuleFromVariant(variant).then((m) => (engine = m));
    void err;
  }
  port.postMessage(outcome);
});

/**
 * Runs one job: evaluates the source, calls `job.fn(input)`, waits for a promise it returns,
 * and answers the value as JSON text.
 * @param {ScriptJob} job
 * @returns {ScriptOutcome}
 */
function run(job) {
  const started = Date.now();
  const deadline = started + job.timeoutMs;
  /** @type {string[]} */
  const logs = [];
  let timedOut = false;
  const rt = engine.newRuntime();
  rt.setMemoryLimit(job.memoryBytes);
  rt.setMaxStackSize(MAX_STACK_BYTES);
  rt.setInterruptHandler(() => {
    if (Date.now() > deadline) timedOut = true;
    return timedOut;
  });
  const vm = rt.newContext();
  /** @param {'timeout' | 'memory' | 'exception' | 'garbage'} kind @param {string} message @returns {ScriptOutcome} */
  const fail = (kind, message) => ({ id: job.id, ok: false, kind, message, logs, durationMs: Date.now() - started });
  try {
    installConsole(vm, logs);
    const input = vm.newString(job.inputJson);
    vm.setProp(vm.global, '__inputJson', input);
    input.dispose();

    const evaluated = vm.evalCode(job.source, 'script.js');
    if (evaluated.error) return errorOutcome(vm, evaluated.error, timedOut, fail);
    evaluated.value.dispose();

    // job.fn is a plain identifier (checked by the host), so it can be written into the code.
    const driver = `(function () {
      function fail(e) {
        globalThis.__answer = { ok: false, error: e !== null && typeof e === 'object'
          ? { name: String(e.name), message: String(e.message), stack: String(e.stack || '') }
          : { thrown: String(e) } };
      }
      var input = JSON.parse(globalThis.__inputJson);
      delete globalThis.__inputJson;
      if (typeof ${job.fn} !== 'function') throw new TypeError('the script defines no function ${job.fn}(input)');
      var result;
      try { result = ${job.fn}(input); } catch (e) { fail(e); return; }
      Promise.resolve(result).then(function (v) {
        try { globalThis.__answer = { ok: true, json: JSON.stringify(v === undefined ? null : v) }; } catch (e) { fail(e); }
      }, fail);
    })()`;
    const called = vm.evalCode(driver, 'driver.js');
    if (called.error) return errorOutcome(vm, called.error, timedOut, fail);
    called.value.dispose();
    const jobs = rt.executePendingJobs(-1);
    if (jobs.error) return errorOutcome(vm, jobs.error, timedOut, fail);
    const answerHandle = vm.getProp(vm.global, '__answer');
    const answer = /** @type {{ok: true, json: unknown} | {ok: false, error: unknown} | undefined} */ (
      dumpOf(vm, answerHandle)
    );
    answerHandle.dispose();
    if (timedOut) return fail('timeout', timeoutMessage(job));
    if (answer === undefined) return fail('garbage', 'the script never settled the promise it returned');
    if (!answer.ok) return classify(describe(answer.error), fail);
    if (typeof answer.json !== 'string') return fail('garbage', 'the answer cannot be written as JSON');
    if (answer.json.length > job.maxOutput)
      return fail('garbage', `the answer is ${answer.json.length} characters of JSON (at most ${job.maxOutput})`);
    return { id: job.id, ok: true, json: answer.json, logs, durationMs: Date.now() - started };
  } finally {
    vm.dispose();
    rt.dispose();
  }

  /** @param {ScriptJob} j */
  function timeoutMessage(j) {
    return `the script ran longer than its limit of ${j.timeoutMs} ms and was stopped`;
  }

  /**
   * @param {QuickJSContext} context
   * @param {import('quickjs-emscripten-core').QuickJSHandle} handle
   * @param {boolean} _t
   * @param {(kind: 'timeout' | 'memory' | 'exception' | 'garbage', message: string) => ScriptOutcome} failWith
   */
  function errorOutcome(context, handle, _t, failWith) {
    const e = dumpOf(context, handle);
    handle.dispose();
    if (timedOut) return failWith('timeout', timeoutMessage(job));
    return classify(describe(e), failWith);
  }

  /**
   * @param {string} text
   * @param {(kind: 'timeout' | 'memory' | 'exception' | 'garbage', message: string) => ScriptOutcome} failWith
   */
  function classify(text, failWith) {
    if (/out of memory/i.test(text))
      return failWith('memory', `the script used more than its ${job.memoryBytes >> 20} MiB of memory`);
    return failWith('exception', text);
  }
}

/**
 * `console.log/info/warn/error` keeping at most {@link MAX_LOG_LINES} lines.
 * @param {QuickJSContext} vm
 * @param {string[]} logs
 */
function installConsole(vm, logs) {
  const consoleObject = vm.newObject();
  for (const level of ['log', 'info', 'warn', 'error']) {
    const fn = vm.newFunction(level, (...args) => {
      if (logs.length >= MAX_LOG_LINES) return;
      const line = args
        .map((a) => {
          const v = dumpOf(vm, a);
          if (typeof v === 'string') return v;
          try {
            return JSON.stringify(v) ?? String(v);
          } catch {
            return String(v);
          }
        })
        .join(' ');
      logs.push((level === 'log' ? '' : `${level}: `) + line.slice(0, MAX_LOG_LINE));
    });
    vm.setProp(consoleObject, level, fn);
    fn.dispose();
  }
  vm.setProp(vm.global, 'console', consoleObject);
  consoleObject.dispose();
}

/**
 * A thrown value as one line: `Name: message (at script.js:3)`.
 * @param {unknown} e
 */
function describe(e) {
  if (e && typeof e === 'object' && 'thrown' in e) return `the script threw ${String(e.thrown)}`.slice(0, 1000);
  if (e && typeof e === 'object') {
    const o = /** @type {{name?: unknown, message?: unknown, stack?: unknown}} */ (e);
    const where = typeof o.stack === 'string' ? /script\.js:(\d+)/.exec(o.stack) : null;
    const head = `${typeof o.name === 'string' ? o.name : 'Error'}: ${typeof o.message === 'string' ? o.message : JSON.stringify(e)}`;
    return (where ? `${head} (line ${where[1]})` : head).slice(0, 1000);
  }
  return `the script threw ${String(e)}`.slice(0, 1000);
}

/**
 * A handle's value copied out of the engine.
 * @param {QuickJSContext} vm
 * @param {import('quickjs-emscripten-core').QuickJSHandle} handle
 * @returns {unknown}
 */
function dumpOf(vm, handle) {
  return vm.dump(handle);
}
