// The seam both in-process SIP benches share: the BUILT server started in this process on PGlite with the
// bench users, its UDP socket fed directly ('message' events) and its sends captured, plus the CPU and
// heap profilers of the measured part. See register-inproc.mjs and call-inproc.mjs.
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const DOMAIN = '127.0.0.1';
export const USERS = 10_000;

/** `--name value` from argv, else `dflt`. */
export function option(args, name, dflt) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
}

export const md5 = (s) => createHash('md5').update(s).digest('hex');

/**
 * Replaces dgram's bind and send so that the server's sends reach `onSend(port, bytes)` (on a later
 * turn, as a datagram would) instead of the kernel. With `passThrough` every send goes out for real.
 */
export function installSocketSeam({ passThrough = false } = {}) {
  const sockets = [];
  const seam = { sockets, onSend: () => {} };
  const realBind = dgram.Socket.prototype.bind;
  dgram.Socket.prototype.bind = function (...a) {
    sockets.push(this);
    return realBind.apply(this, a);
  };
  const realSend = dgram.Socket.prototype.send;
  dgram.Socket.prototype.send = function (msg, ...rest) {
    if (passThrough || !sockets.includes(this)) return realSend.call(this, msg, ...rest);
    const cb = typeof rest[rest.length - 1] === 'function' ? rest[rest.length - 1] : undefined;
    // send(msg, port, address, cb) as the UDP transport calls it.
    const port = rest[0];
    const bytes = Buffer.isBuffer(msg) ? msg : Array.isArray(msg) ? Buffer.concat(msg) : Buffer.from(msg);
    if (cb) process.nextTick(cb, null, bytes.length);
    setImmediate((p, b) => seam.onSend(p, b), port, bytes);
  };
  return seam;
}

/** Starts the built server (`mainPath`: its dist/main.js) with domain DOMAIN and users 1000.. (password secret<user>). */
export async function startServer(mainPath, seam) {
  const { startHandset } = await import(pathToFileURL(mainPath).href);
  const { loadServerConfig } = await import(pathToFileURL(join(mainPath, '../config/server-config.js')).href);
  const dataDir = await mkdtemp(join(tmpdir(), 'handset-inproc-'));
  const config = loadServerConfig({
    HANDSET_DATA_DIR: dataDir,
    HANDSET_BIND: '127.0.0.1',
    HANDSET_PUBLIC_HOST: '127.0.0.1',
    HANDSET_SIP_PORT: '0',
    HANDSET_HTTP_PORT: '0',
    HANDSET_LOG_LEVEL: 'warn',
    // The seam stands in for the server's own socket, so that socket must be on this thread.
    HANDSET_UDP_IO_THREAD: 'off',
  });
  const server = await startHandset(config, { runFile: false });
  await server.directory.addDomain(DOMAIN);
  const csv = ['ext,password'];
  for (let u = 0; u < USERS; u++) csv.push(`${1000 + u},secret${1000 + u}`);
  await server.directory.importUsers(DOMAIN, csv.join('\n'));
  const port = server.sipPorts.udp;
  const socket = seam.sockets.find((s) => {
    try {
      return s.address().port === port;
    } catch {
      return false;
    }
  });
  if (!socket) throw new Error('server UDP socket not found');
  return {
    server,
    socket,
    port,
    /** Hands `bytes` to the server as a datagram from 127.0.0.1:`fromPort`. */
    deliver(fromPort, bytes) {
      socket.emit('message', bytes, { address: '127.0.0.1', family: 'IPv4', port: fromPort, size: bytes.length });
    },
    async close() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The default server build: this checkout's apps/server/dist/main.js. */
export const defaultMain = () => fileURLToPath(new URL('../../apps/server/dist/main.js', import.meta.url));

/**
 * The measured part: `start()` marks its beginning (and starts the profilers asked for), `stop(measured)`
 * writes the profiles and returns the CPU (every thread) and wall time per measured scenario. The CPU
 * profile samples every `intervalUs` (a longer interval disturbs the figures less).
 */
export async function measurement({ cpuProfile, heapProfile, intervalUs = 100 }) {
  let session;
  if (cpuProfile || heapProfile) {
    session = new Session();
    session.connect();
  }
  if (cpuProfile) {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  }
  if (heapProfile) await session.post('HeapProfiler.enable');
  let mark;
  return {
    start() {
      if (cpuProfile) void session.post('Profiler.start');
      if (heapProfile)
        void session.post('HeapProfiler.startSampling', {
          samplingInterval: 1024,
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: true,
        });
      mark = { cpu: process.cpuUsage(), t: process.hrtime.bigint() };
    },
    async stop(measured) {
      const cpu = process.cpuUsage(mark.cpu);
      const wall = Number(process.hrtime.bigint() - mark.t) / 1e3;
      if (cpuProfile) await writeFile(cpuProfile, JSON.stringify((await session.post('Profiler.stop')).profile));
      if (heapProfile)
        await writeFile(heapProfile, JSON.stringify((await session.post('HeapProfiler.stopSampling')).profile));
      const per = (us) => (us / Math.max(measured, 1)).toFixed(1);
      return `cpu ${per(cpu.user + cpu.system)} us (user ${per(cpu.user)}, system ${per(cpu.system)}), wall ${per(wall)} us`;
    },
  };
}
