#!/usr/bin/env node
/**
 * SIP-over-WebSocket load generator (RFC 7118; SIPp has no WS transport).
 *
 * N clients connect with subprotocol `sip`, each REGISTERs with digest auth (401 -> digest -> 200;
 * MD5, SHA-256 or their -sess forms, qop=auth or none, as challenged), at bounded concurrency, then
 * stays registered sending CRLFCRLF keep-alives every ~25 s for --hold seconds, then unregisters
 * (Expires: 0, not timed, so no binding outlives the run) and closes every socket.
 * Reports REGISTER/s over WS (completed authenticated registers / wall time of the register phase,
 * connection setup included), failures by reason, and the server's memory per connected client:
 * VmRSS of --pid, and PSS summed over --pid and its descendants (the fair figure for Kamailio's
 * process family, whose shared memory VmRSS would count once per process), sampled before the first
 * connection and after all N are registered, divided by N.
 *
 *   node bench/ws/ws-load.mjs [--url ws://127.0.0.1:5071/] [--clients 10000] [--concurrency 200]
 *        [--domain 127.0.0.1] [--pid N | --pid-file F] [--hold 30] [--source-ips auto] ...
 *   node bench/ws/ws-load.mjs --help
 *
 * Clients are spread over source addresses 127.0.0.2..127.0.0.(1+K) (Linux routes all of 127/8 to lo)
 * so that neither the ephemeral port range nor a per-source-IP connection limit caps the run.
 * Last line of output: `ws-register: key=value ...` (parsed by bench/ws/bench.sh); --json prints a
 * JSON object instead of the human-readable block.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const HELP = `usage: node bench/ws/ws-load.mjs [options]   (every option also reads WS_<NAME> from env)
  --url URL             ws:// target, subprotocol sip          (ws://127.0.0.1:5071/, the Kamailio anchor)
  --clients N           connected, registered clients          (10000)
  --concurrency C       registers in flight at once            (200)
  --domain D            SIP domain (AOR user@D, Request-URI)   (127.0.0.1)
  --first-user U        first user name                        (1000)
  --users M             distinct users, client i uses U + i%M  (10000)
  --password-prefix P   password is P<user>                    (secret)
  --expires S           Expires of the REGISTER                (600)
  --hold S              stay registered this long after the last 200, keep-alives running (30)
  --keepalive S         CRLFCRLF keep-alive period, jittered   (25)
  --timeout S           per step (connect, each response)      (15)
  --source-ips K|auto   spread over 127.0.0.2..127.0.0.(1+K); 0 = no localAddress; auto = ceil(N/50), at most 253
  --pid PID             server process to measure (with its descendants)
  --pid-file F          read the server pid from F (e.g. /tmp/kamailio-anchor.pid)
  --settle S            wait before each memory sample         (3)
  --label L             name printed in the result line        (the url)
  --json                print one JSON object instead of text
  --no-unregister       close without unregistering first (default: REGISTER Expires: 0, not timed)
  --self-test           check the digest code against RFC 7616 §3.9.1 and exit`;

/** Parsed options with defaults; each also reads WS_<UPPER_SNAKE> from the environment. */
function readOptions(argv, env) {
  const spec = {
    url: 'ws://127.0.0.1:5071/',
    clients: '10000',
    concurrency: '200',
    domain: '127.0.0.1',
    'first-user': '1000',
    users: '10000',
    'password-prefix': 'secret',
    expires: '600',
    hold: '30',
    keepalive: '25',
    timeout: '15',
    'source-ips': 'auto',
    pid: '',
    'pid-file': '',
    settle: '3',
    label: '',
  };
  const options = Object.fromEntries(Object.keys(spec).map((k) => [k, { type: 'string' }]));
  options.json = { type: 'boolean' };
  options.help = { type: 'boolean' };
  options['no-unregister'] = { type: 'boolean' };
  options['self-test'] = { type: 'boolean' };
  const { values } = parseArgs({ args: argv, options, strict: true });
  if (values.help) return null;
  if (values['self-test']) return { selfTest: true };
  const o = {};
  for (const [k, def] of Object.entries(spec)) {
    o[k] = values[k] ?? env[`WS_${k.toUpperCase().replaceAll('-', '_')}`] ?? def;
  }
  const num = (k) => {
    const n = Number(o[k]);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${k} must be a non-negative number, got ${o[k]}`);
    return n;
  };
  const clients = num('clients');
  // 50 clients per address: under Handset's default per-IP connection limit (64) even if the bench
  // cannot raise it, and 10,000 clients use 200 addresses x 50 ephemeral ports.
  const sourceIps = o['source-ips'] === 'auto' ? Math.min(253, Math.ceil(clients / 50)) : num('source-ips');
  if (sourceIps > 253) throw new Error('--source-ips at most 253 (127.0.0.2..127.0.0.254)');
  return {
    url: o.url,
    clients,
    concurrency: Math.max(1, num('concurrency')),
    domain: o.domain,
    firstUser: num('first-user'),
    users: Math.max(1, num('users')),
    passwordPrefix: o['password-prefix'],
    expires: num('expires'),
    holdMs: num('hold') * 1000,
    keepaliveMs: num('keepalive') * 1000,
    timeoutMs: num('timeout') * 1000,
    sourceIps,
    pid: o.pid ? Number(o.pid) : null,
    pidFile: o['pid-file'],
    settleMs: num('settle') * 1000,
    label: o.label || o.url,
    json: Boolean(values.json ?? env.WS_JSON),
    unregister: !(values['no-unregister'] ?? env.WS_NO_UNREGISTER),
  };
}

// ---- memory of the server under test (Linux /proc) ----

/** kB value of a `Key:   123 kB` line in a /proc file, or null. */
function procKb(path, key) {
  try {
    const m = readFileSync(path, 'utf8').match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** pid and all its descendants (Kamailio forks its workers; a clustered server may too). */
function processTree(root) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(name));
    } catch {
      /* exited meanwhile */
    }
  }
  const out = [];
  const stack = [root];
  while (stack.length) {
    const p = stack.pop();
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

/** {rssKb: VmRSS of pid, pssKb: PSS summed over the tree, procs} or null when the pid is unknown. */
function sampleMemory(pid) {
  if (!pid) return null;
  const rssKb = procKb(`/proc/${pid}/status`, 'VmRSS');
  if (rssKb === null) return null;
  const tree = processTree(pid);
  let pssKb = 0;
  for (const p of tree) pssKb += procKb(`/proc/${p}/smaps_rollup`, 'Pss') ?? procKb(`/proc/${p}/status`, 'VmRSS') ?? 0;
  return { rssKb, pssKb, procs: tree.length };
}

// ---- SIP over WS, just enough for a load tool ----

const rand = (n = 8) => randomBytes(n).toString('hex');
const HASHES = { MD5: 'md5', 'SHA-256': 'sha256', 'MD5-SESS': 'md5', 'SHA-256-SESS': 'sha256' };

/** Value of the first header named `name` (or its compact form), case-insensitive. */
function header(msg, name, compact) {
  const re = new RegExp(`^(?:${name}${compact ? `|${compact}` : ''})[ \\t]*:[ \\t]*(.*)$`, 'gim');
  return [...msg.matchAll(re)].map((m) => m[1].trim());
}

/** Parameters of one `Digest k=v, k="v"` challenge. */
function parseChallenge(value) {
  if (!/^digest\s/i.test(value)) return null;
  const params = {};
  for (const m of value.slice(7).matchAll(/([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  }
  return params;
}

/** The first challenge whose algorithm we implement (RFC 7616 §3.7: the server lists its preference first). */
function pickChallenge(values) {
  for (const v of values) {
    const c = parseChallenge(v);
    if (c && (c.algorithm ?? 'MD5').toUpperCase() in HASHES && c.nonce) return c;
  }
  return null;
}

/** Authorization header value for `method uri` answering challenge `c` (RFC 7616 §3.4, RFC 8760). */
function digestAuthorization(c, user, password, method, uri, cnonce = rand(8)) {
  const alg = (c.algorithm ?? 'MD5').toUpperCase();
  const H = (s) => createHash(HASHES[alg]).update(s).digest('hex');
  const realm = c.realm ?? '';
  const nc = '00000001';
  let ha1 = H(`${user}:${realm}:${password}`);
  if (alg.endsWith('-SESS')) ha1 = H(`${ha1}:${c.nonce}:${cnonce}`);
  const ha2 = H(`${method}:${uri}`);
  const qops = (c.qop ?? '').split(',').map((q) => q.trim().toLowerCase());
  const qop = qops.includes('auth') ? 'auth' : null;
  const response = qop ? H(`${ha1}:${c.nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : H(`${ha1}:${c.nonce}:${ha2}`);
  let v = `Digest username="${user}", realm="${realm}", nonce="${c.nonce}", uri="${uri}", response="${response}"`;
  if (c.algorithm) v += `, algorithm=${c.algorithm}`;
  if (c.opaque !== undefined) v += `, opaque="${c.opaque}"`;
  if (qop) v += `, qop=${qop}, nc=${nc}, cnonce="${cnonce}"`;
  return v;
}

/** One simulated browser phone: its socket, identity and REGISTER dialog state. */
class Client {
  constructor(index, opts) {
    this.user = String(opts.firstUser + (index % opts.users));
    this.password = `${opts.passwordPrefix}${this.user}`;
    this.opts = opts;
    this.host = `${rand(6)}.invalid`;
    this.callId = rand(12);
    this.tag = rand(5);
    this.instance = `<urn:uuid:${randomUUID()}>`;
    this.cseq = 0;
    this.ws = null;
    this.pending = null; // { resolve, reject, timer } of the request in flight
    this.keepalive = null;
    this.pongs = 0;
    this.requestsAnswered = 0;
    this.closedByPeer = false;
    this.closing = false;
    this.localAddress = opts.sourceIps > 0 ? `127.0.0.${2 + (index % opts.sourceIps)}` : undefined;
  }

  /** Opens the socket; resolves once open, rejects with a reason string. */
  connect() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.opts.url, 'sip', {
        perMessageDeflate: false,
        handshakeTimeout: this.opts.timeoutMs,
        ...(this.localAddress ? { localAddress: this.localAddress } : {}),
      });
      this.ws = ws;
      ws.once('open', () => {
        if (ws.protocol !== 'sip') {
          ws.terminate();
          reject(new Error('subprotocol-not-echoed'));
        } else resolve();
      });
      // Stays attached after open: a later reset must not become an unhandled 'error' event.
      ws.on('error', (err) => reject(new Error(`connect:${err.code ?? err.message}`)));
      ws.on('message', (data) => this.onMessage(data.toString()));
      ws.on('close', () => {
        this.closedByPeer = !this.closing;
        clearInterval(this.keepalive);
        this.pending?.reject(new Error('closed'));
      });
    });
  }

  onMessage(text) {
    if (/^\s*$/.test(text)) {
      this.pongs++; // CRLF answer to our keep-alive (RFC 5626 §4.4.1)
      return;
    }
    if (text.startsWith('SIP/2.0 ')) {
      const status = Number(text.slice(8, 11));
      if (status < 200 || !this.pending) return;
      const cseq = header(text, 'CSeq')[0] ?? '';
      if (!cseq.startsWith(`${this.cseq} `)) return; // a late answer to an earlier request
      const p = this.pending;
      this.pending = null;
      clearTimeout(p.timer);
      p.resolve({ status, text });
      return;
    }
    this.answerRequest(text);
  }

  /** Requests from the server: 200 to OPTIONS and the like, 480 to INVITE (this phone takes no calls). */
  answerRequest(text) {
    const method = text.slice(0, text.indexOf(' '));
    if (method === 'ACK') return;
    const copy = ['Via', 'From', 'To', 'Call-ID', 'CSeq'];
    const compact = { Via: 'v', From: 'f', To: 't', 'Call-ID': 'i' };
    const lines = [method === 'INVITE' ? 'SIP/2.0 480 Temporarily Unavailable' : 'SIP/2.0 200 OK'];
    this.requestsAnswered++;
    for (const h of copy) for (const v of header(text, h, compact[h])) lines.push(`${h}: ${v}`);
    lines.push('Content-Length: 0', '', '');
    this.send(lines.join('\r\n'));
  }

  send(text) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(text);
  }

  /** Sends a REGISTER and resolves with the final response. */
  request(authorization, expires = this.opts.expires) {
    this.cseq++;
    const d = this.opts.domain;
    const msg =
      `REGISTER sip:${d} SIP/2.0\r\n` +
      `Via: SIP/2.0/WS ${this.host};branch=z9hG4bK${rand(8)}\r\n` +
      `Max-Forwards: 70\r\n` +
      `To: <sip:${this.user}@${d}>\r\n` +
      `From: <sip:${this.user}@${d}>;tag=${this.tag}\r\n` +
      `Call-ID: ${this.callId}\r\n` +
      `CSeq: ${this.cseq} REGISTER\r\n` +
      `Contact: <sip:${this.user}@${this.host};transport=ws>;+sip.instance="${this.instance}";expires=${expires}\r\n` +
      `Expires: ${expires}\r\n` +
      (authorization ? `Authorization: ${authorization}\r\n` : '') +
      `User-Agent: handset-ws-load\r\n` +
      `Content-Length: 0\r\n\r\n`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = null;
        reject(new Error('timeout'));
      }, this.opts.timeoutMs);
      this.pending = { resolve, reject, timer };
      this.send(msg);
    });
  }

  /** REGISTER, 401/407, authenticated REGISTER, 200. Throws with a short reason. */
  async register() {
    const t0 = performance.now();
    await this.connect();
    const t1 = performance.now();
    await this.authenticatedRegister(this.opts.expires);
    this.connectMs = t1 - t0;
    this.registerMs = performance.now() - t1;
  }

  /** Removes the binding (Expires: 0), so no stale binding outlives the run on a shared server. */
  async unregister() {
    if (this.open) await this.authenticatedRegister(0);
  }

  async authenticatedRegister(expires) {
    const first = await this.request(null, expires);
    if (first.status === 200) return; // accepted without a challenge
    if (first.status !== 401 && first.status !== 407) throw new Error(`status:${first.status}`);
    const c = pickChallenge(header(first.text, first.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate'));
    if (!c) throw new Error('no-usable-challenge');
    const auth = digestAuthorization(c, this.user, this.password, 'REGISTER', `sip:${this.opts.domain}`);
    const second = await this.request(auth, expires);
    if (second.status !== 200) throw new Error(`auth-status:${second.status}`);
  }

  /** CRLFCRLF every ~period (first one jittered so N clients do not fire together). */
  startKeepalive(period) {
    const tick = () => this.send('\r\n\r\n');
    setTimeout(() => {
      tick();
      this.keepalive = setInterval(tick, period);
    }, Math.random() * period).unref?.();
  }

  get open() {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Closes gracefully; resolves when closed or after the timeout (then terminates). */
  close(timeoutMs = 5000) {
    this.closing = true;
    clearInterval(this.keepalive);
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, timeoutMs);
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000);
    });
  }
}

/** RFC 7616 §3.9.1 vectors (MD5 and SHA-256): proves the digest code before it is used as a load tool. */
function selfTest() {
  const c = {
    realm: 'http-auth@example.org',
    qop: 'auth, auth-int',
    opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  };
  const cnonce = 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';
  const want = {
    MD5: '8ca523f5e9506fed4657c9700eebdbec',
    'SHA-256': '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
  };
  let bad = 0;
  for (const [algorithm, response] of Object.entries(want)) {
    const chosen = pickChallenge([
      `Digest realm="${c.realm}", qop="${c.qop}", algorithm=${algorithm}, nonce="${c.nonce}", opaque="${c.opaque}"`,
    ]);
    const v = digestAuthorization(chosen, 'Mufasa', 'Circle of Life', 'GET', '/dir/index.html', cnonce);
    const ok = v.includes(`response="${response}"`);
    if (!ok) bad++;
    process.stdout.write(`self-test ${algorithm}: ${ok ? 'ok' : `FAILED: ${v}`}\n`);
  }
  return bad ? 1 : 0;
}

/** p-th percentile (0..100) of numbers, rounded to 0.1, or null. */
function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 10) / 10;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  let opts;
  try {
    opts = readOptions(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`ws-load: ${err.message}\n${HELP}\n`);
    process.exit(2);
  }
  if (!opts) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (opts.selfTest) return selfTest();
  const say = opts.json ? () => {} : (s) => process.stdout.write(`${s}\n`);
  let pid = opts.pid;
  if (!pid && opts.pidFile) pid = Number(readFileSync(opts.pidFile, 'utf8').trim()) || null;

  say(
    `ws-load: ${opts.clients} clients -> ${opts.url} (domain ${opts.domain}), concurrency ${opts.concurrency}, ` +
      `source IPs ${opts.sourceIps ? `127.0.0.2..127.0.0.${1 + opts.sourceIps}` : 'default'}, server pid ${pid ?? 'n/a'}`,
  );
  const memBefore = pid ? (await sleep(opts.settleMs), sampleMemory(pid)) : null;
  if (pid && !memBefore) say(`ws-load: cannot read /proc/${pid}; memory not reported`);

  const clients = [];
  const failures = new Map();
  let ok = 0;
  let failedSoFar = 0;
  let next = 0;
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  let lastProgress = started;
  const worker = async () => {
    while (next < opts.clients) {
      const c = new Client(next++, opts);
      clients.push(c);
      try {
        await c.register();
        ok++;
        c.startKeepalive(opts.keepaliveMs);
      } catch (err) {
        const reason = err.message;
        failures.set(reason, (failures.get(reason) ?? 0) + 1);
        failedSoFar++;
        void c.close(1000);
      }
      if (performance.now() - lastProgress > 5000) {
        lastProgress = performance.now();
        say(`  ... ${ok} registered, ${failedSoFar} failed so far`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.clients) }, worker));
  const wallS = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  // Near 100 % means this single-threaded generator, not the server, set the pace.
  const generatorCpuPct = Math.round((cpu.user + cpu.system) / 1e4 / wallS);
  const failed = opts.clients - ok;
  const rate = Math.round(ok / wallS);
  say(
    `register phase: ${ok} ok, ${failed} failed in ${wallS.toFixed(2)} s -> ${rate} REGISTER/s over WS ` +
      `(generator CPU ${generatorCpuPct} % of one core)`,
  );
  for (const [reason, n] of [...failures].sort((a, b) => b[1] - a[1])) say(`  failed ${n}: ${reason}`);
  const done = clients.filter((c) => c.registerMs !== undefined);
  const lat = {
    connect_p50_ms: percentile(
      done.map((c) => c.connectMs),
      50,
    ),
    connect_p99_ms: percentile(
      done.map((c) => c.connectMs),
      99,
    ),
    register_p50_ms: percentile(
      done.map((c) => c.registerMs),
      50,
    ),
    register_p99_ms: percentile(
      done.map((c) => c.registerMs),
      99,
    ),
  };
  say(
    `  per client: WS connect p50 ${lat.connect_p50_ms} ms p99 ${lat.connect_p99_ms} ms; ` +
      `REGISTER/401/REGISTER/200 p50 ${lat.register_p50_ms} ms p99 ${lat.register_p99_ms} ms`,
  );

  const memAfter = pid ? (await sleep(opts.settleMs), sampleMemory(pid)) : null;
  const perClient = (k) =>
    memBefore && memAfter && ok > 0 ? Number(((memAfter[k] - memBefore[k]) / ok).toFixed(2)) : null;
  if (memBefore && memAfter) {
    say(
      `server memory: VmRSS(pid ${pid}) ${memBefore.rssKb} -> ${memAfter.rssKb} kB, ` +
        `PSS(${memAfter.procs} procs) ${memBefore.pssKb} -> ${memAfter.pssKb} kB; per registered client: ` +
        `${perClient('rssKb')} kB RSS, ${perClient('pssKb')} kB PSS`,
    );
  }

  if (opts.holdMs > 0 && ok > 0) {
    say(`holding ${ok} registered clients for ${opts.holdMs / 1000} s (CRLFCRLF every ~${opts.keepaliveMs / 1000} s)`);
    await sleep(opts.holdMs);
  }
  const stillOpen = clients.filter((c) => c.open).length;
  const droppedByServer = clients.filter((c) => c.closedByPeer && !c.closing).length;
  const pongs = clients.reduce((n, c) => n + c.pongs, 0);
  say(
    `after hold: ${stillOpen}/${ok} still connected, ${droppedByServer} closed by the server, ${pongs} CRLF keep-alive answers`,
  );

  let unregistered = 0;
  if (opts.unregister) {
    const registered = clients.filter((c) => c.open);
    let i = 0;
    const unworker = async () => {
      while (i < registered.length) {
        const c = registered[i++];
        try {
          await c.unregister();
          unregistered++;
        } catch {
          /* reported as a count below; not part of the measurement */
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, registered.length) }, unworker));
    say(`unregistered ${unregistered}/${registered.length} (not timed)`);
  }
  await Promise.all(clients.map((c) => c.close()));
  const result = {
    label: opts.label,
    url: opts.url,
    clients: opts.clients,
    concurrency: opts.concurrency,
    ok,
    failed,
    wall_s: Number(wallS.toFixed(3)),
    rate_per_s: rate,
    generator_cpu_pct: generatorCpuPct,
    ...lat,
    rss_before_kb: memBefore?.rssKb ?? null,
    rss_after_kb: memAfter?.rssKb ?? null,
    pss_before_kb: memBefore?.pssKb ?? null,
    pss_after_kb: memAfter?.pssKb ?? null,
    rss_per_client_kb: perClient('rssKb'),
    pss_per_client_kb: perClient('pssKb'),
    still_connected: stillOpen,
    dropped_by_server: droppedByServer,
    keepalive_answers: pongs,
    requests_answered: clients.reduce((n, c) => n + c.requestsAnswered, 0),
    unregistered,
    failures: Object.fromEntries(failures),
  };
  if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const kv = Object.entries(result)
      .filter(([k]) => k !== 'failures' && k !== 'url')
      .map(([k, v]) => `${k}=${v ?? 'n/a'}`)
      .join(' ');
    say(`ws-register: ${kv}`);
  }
  return failed === 0 && stillOpen === ok ? 0 : 1;
}

// Must end by itself: a hard deadline well past every phase's own timeouts.
const code = await Promise.race([
  main(),
  sleep(Number(process.env.WS_DEADLINE_S ?? 1800) * 1000).then(() => {
    process.stderr.write('ws-load: deadline reached, giving up\n');
    return 3;
  }),
]);
process.exit(code);
