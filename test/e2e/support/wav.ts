import { readFile } from 'node:fs/promises';

/** What a recording contains, as a listener would judge it. */
export interface ToneReport {
  readonly sampleRate: number;
  readonly channels: number;
  readonly seconds: number;
  /** Seconds of 100 ms blocks louder than -40 dBFS. */
  readonly loudSeconds: number;
  /** RMS of the first channel over the whole file, in 16-bit units (0..32767). */
  readonly rms: number;
  /** Median over loud blocks of each block's strongest frequency (10 Hz steps), or undefined when all is silent. */
  readonly dominantHz: number | undefined;
}

const LOUD_RMS = 32767 * 10 ** (-40 / 20);

interface Pcm {
  sampleRate: number;
  channels: number;
  /** First channel only. */
  samples: Int16Array;
}

/** Parses a RIFF/WAVE file of 16-bit PCM; tolerates a data chunk size left at 0 by a writer that did not finish. */
function parseWav(buf: Buffer): Pcm {
  if (buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE file');
  }
  let off = 12;
  let fmt: { format: number; channels: number; sampleRate: number; bits: number } | undefined;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4);
    let size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      fmt = {
        format: buf.readUInt16LE(body),
        channels: buf.readUInt16LE(body + 2),
        sampleRate: buf.readUInt32LE(body + 4),
        bits: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!fmt) throw new Error('data chunk before fmt chunk');
      if (fmt.bits !== 16 || (fmt.format !== 1 && fmt.format !== 0xfffe)) {
        throw new Error(`unsupported WAV format ${fmt.format}/${fmt.bits} bits`);
      }
      if (size === 0 || body + size > buf.length) size = buf.length - body;
      const frames = Math.floor(size / (2 * fmt.channels));
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = buf.readInt16LE(body + i * 2 * fmt.channels);
      return { sampleRate: fmt.sampleRate, channels: fmt.channels, samples };
    }
    off = body + size + (size % 2);
  }
  throw new Error('no data chunk');
}

/** Goertzel power of one frequency over a block. */
function power(block: Int16Array, hz: number, sampleRate: number): number {
  const k = 2 * Math.cos((2 * Math.PI * hz) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (const x of block) {
    const s0 = x + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - k * s1 * s2;
}

/** Reads a 16-bit PCM WAV file and reports its loudness and dominant tone. */
export async function analyzeWav(path: string): Promise<ToneReport> {
  const { sampleRate, channels, samples } = parseWav(await readFile(path));
  const blockLen = Math.round(sampleRate / 10);
  let sumSq = 0;
  for (const x of samples) sumSq += x * x;
  const dominant: number[] = [];
  for (let start = 0; start + blockLen <= samples.length; start += blockLen) {
    const block = samples.subarray(start, start + blockLen);
    let sq = 0;
    for (const x of block) sq += x * x;
    if (Math.sqrt(sq / blockLen) < LOUD_RMS) continue;
    let best = 0;
    let bestHz = 0;
    for (let hz = 50; hz < sampleRate / 2 - 50; hz += 10) {
      const p = power(block, hz, sampleRate);
      if (p > best) {
        best = p;
        bestHz = hz;
      }
    }
    dominant.push(bestHz);
  }
  dominant.sort((a, b) => a - b);
  return {
    sampleRate,
    channels,
    seconds: samples.length / sampleRate,
    loudSeconds: dominant.length * 0.1,
    rms: samples.length ? Math.sqrt(sumSq / samples.length) : 0,
    dominantHz: dominant.length ? dominant[Math.floor(dominant.length / 2)] : undefined,
  };
}
