/**
 * A child process for runtime-tuning.test.ts: applies HANDSET_PARALLEL_SCAVENGE as the server does
 * (argv: setting, core count), then allocates as a busy registrar does (most objects die young, one
 * in ten lives a while) so that V8 runs scavenges with survivors to copy. Run under --trace-gc-nvp; `tuned` marks the
 * moment the setting applies (the collections before it are the loader's start-up).
 */
import { applyRuntimeTuning, type ParallelScavengeSetting } from '../runtime-tuning.js';

const [setting, cores] = process.argv.slice(2);
applyRuntimeTuning(setting as ParallelScavengeSetting, { cores: Number(cores) });
process.stdout.write('tuned\n');
const kept: object[] = [];
for (let i = 0; i < 2_000_000; i++) {
  const o = { seq: i, pair: [i, i + 1], text: `binding-${i}` };
  if (i % 10 === 0) kept.push(o);
  if (kept.length > 40_000) kept.splice(0, 10_000);
}
process.stdout.write(`kept ${kept.length}\n`);
