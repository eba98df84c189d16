#!/usr/bin/env node
/**
 * Load generator of the provisioning storm (bench/provisioning/bench.sh): an app fleet coming back
 * after an outage, every activated SessionTalk app re-provisioning at once through
 * `GET /app/sessiontalk/provision?username=<ext>@<domain>&password=<token>&reprovision=true&deviceId=<id>`.
 *
 *   node prov-load.mjs setup  --url http://127.0.0.1:P --token T --domain D --out devices.jsonl [--devices 10000]
 *        [--codes direct --data-dir DIR | --codes rest]
 *        activates the devices as the cloud would: per extension a code, then the first provisioning
 *        request (reprovision=false, a fresh app id); writes one JSON line per device
 *        {ext, token, deviceId, md5} (md5 = MD5 of the accounts JSON the app received, the json_md5
 *        Handset stores for it). Codes come from POST /api/v1/provisioning/codes (rest: the console's
 *        call, which also draws the QR images, ~10 a second on a busy machine) or are sealed here
 *        with Handset's own codec and the server key in DIR/secret.key (direct: the same tokens, as
 *        codes are stateless, under the domain's qr_expiration and key_rotation read over the API)
 *   node prov-load.mjs desk-setup --url ... --token T --domain D --out desk.jsonl [--devices 10000]
        creates one Yealink desk phone per extension (POST /api/v1/devices, MAC 805ec0<i>, line 1 = the
        extension); writes {mac, ext} per line. A storm over that file fetches GET /prov/<mac>.cfg with
        the phone's User-Agent; every answer must be a 200 Yealink file whose account 1 is the extension
  node prov-load.mjs clear-md5 --url ... --token T [--domain-id ID]
 *        clears every device's json_md5 (PATCH /devices/:id {jsonMd5: null}): the next answer is update:true
 *   node prov-load.mjs storm  --url ... --devices devices.jsonl --expect-update false|true [--concurrency 300]
 *        one re-provisioning request per device, all queued at once over C keep-alive connections;
 *        every answer must be a 200 whose JSON has the expected update flag, errmsg "Provisioned" and the
 *        device's own account with the MD5 recorded at set-up; anything else is an error
 *   node prov-load.mjs storm  --url http://127.0.0.1:N --path /provision.json --devices ... --static FILE
 *        the same requests (same query strings, User-Agent, connections) against a static file server;
 *        every answer must be a 200 carrying exactly FILE's bytes
 *
 * The storm speaks HTTP/1.1 over raw sockets (requests prebuilt, Content-Length responses only) so that
 * the generator costs less CPU than node:http would and the static anchor is not generator-bound sooner
 * than it must be. Last line: `prov-storm: key=value ...` (parsed by bench.sh); --json prints JSON.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { parseArgs } from 'node:util';

const HELP = `usage: node prov-load.mjs setup|clear-md5|storm [options]   (every option also reads PROV_<NAME> from env)
  --url URL             target base URL (http:// only)                      (http://127.0.0.1:8080)
  --token T             API token (setup, clear-md5)
  --domain D            provisioning domain; usernames are <ext>@D          (prov.bench.example)
  --domain-id ID        clear-md5 only in that domain (default: every device the token sees)
  --first-user U        first extension                                     (1000)
  --devices N           devices to activate (setup)                         (10000)
  --setup-concurrency C requests in flight during setup and clear-md5      (8)
  --codes direct|rest   how setup gets codes (see above)                     (rest)
  --data-dir DIR        Handset's data dir, for --codes direct
  --out F / --devices-file F   device list written by setup / read by storm
  --concurrency C       storm connections, each sending one request at a time (300)
  --path P              storm request path                                   (/app/sessiontalk/provision)
  --expect-update B     storm against Handset: the update flag every answer must carry (false | true)
  --static F            storm against a static server: the bytes every answer must carry
  --sample-out F        write the body of one answer of median size here (to serve it statically)
  --pid PID             server process whose CPU time (with its descendants) is reported
  --keepalive 1|0       reuse connections (1) or one connection per request (0)      (1)
  --source-ips K        spread connections over 127.0.0.2..127.0.0.(1+K); 0 = default source (0)
  --user-agent UA       (SessionTalk/3.6.1 Android)
  --timeout S           per request                                          (30)
  --label L             name printed in the result line
  --json                print one JSON object instead of text`;

function readOptions(argv, env) {
  const spec = {
    url: 'http://127.0.0.1:8080',
    token: '',
    domain: 'prov.bench.example',
    'domain-id': '',
    'first-user': '1000',
    devices: '10000',
    'setup-concurrency': '8',
    codes: 'rest',
    'data-dir': '',
    out: '',
    'devices-file': '',
    concurrency: '300',
    path: '/app/sessiontalk/provision',
    'expect-update': '',
    static: '',
    'sample-out': '',
    pid: '',
    keepalive: '1',
    'source-ips': '0',
    'user-agent': 'SessionTalk/3.6.1 Android',
    timeout: '30',
    label: '',
  };
  const options = Object.fromEntries(Object.keys(spec).map((k) => [k, { type: 'string' }]));
  options.json = { type: 'boolean' };
  options.help = { type: 'boolean' };
  const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  if (values.help || positionals.length !== 1) return null;
  const o = { command: positionals[0], json: values.json === true };
  for (const [k, def] of Object.entries(spec))
    o[k] = values[k] ?? env[`PROV_${k.toUpperCase().replaceAll('-', '_')}`] ?? def;
  for (const k of ['first-user', 'devices', 'setup-concurrency', 'concurrency', 'source-ips', 'timeout']) {
    const n = Number(o[k]);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${k} must be a whole number (got "${o[k]}")`);
    o[k] = n;
  }
  const target = new URL(o.url);
  if (target.protocol !== 'http:') throw new Error('--url must be http://');
  o.host = target.hostname;
  o.port = Number(target.port || 80);
  o.base = `${target.protocol}//${target.host}`;
  return o;
}

const md5 = (s) => createHash('md5').update(s).digest('hex');

/** Runs `work(i)` for i in [0, n) with at most `c` in flight; rejects on the first failure. */
async function pool(n, c, work) {
  let next = 0;
  const runner = async () => {
    while (next < n) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(c, n) }, runner));
}

async function api(o, method, path, body) {
  const res = await fetch(o.base + path, {
    method,
    headers: { authorization: `Bearer ${o.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : undefined;
}

/** A fleet as SessionTalk's apps name themselves: iOS an upper-case UUID, Android its own id. */
const appDeviceId = (i) => (i % 2 === 0 ? randomUUID().toUpperCase() : randomUUID().replaceAll('-', '').slice(0, 16));

const provisionQuery = (o, d, reprovision) =>
  `username=${encodeURIComponent(`${d.ext}@${o.domain}`)}&password=${encodeURIComponent(d.token)}` +
  `&reprovision=${reprovision}&deviceId=${encodeURIComponent(d.deviceId)}`;

/** A function ext -> activation token, per --codes. */
async function codeIssuer(o) {
  if (o.codes === 'rest')
    return async (ext) => {
      const code = await api(o, 'POST', '/api/v1/provisioning/codes', { ext, domain: o.domain });
      return String(code.qrText).split(':')[2]; // scsc:<ext>@<domain>:<token>[:<provider_id>]
    };
  if (o.codes !== 'direct' || !o['data-dir']) throw new Error('--codes must be rest, or direct with --data-dir');
  const dist = new URL('../../apps/server/dist/', import.meta.url);
  const { ActivationCodec } = await import(new URL('provisioning/activation-codec.js', dist).href);
  const { loadSecretKey } = await import(new URL('config/secret-key.js', dist).href);
  const codec = new ActivationCodec(await loadSecretKey({ dataDir: o['data-dir'], secretKey: undefined }));
  const { docs: domains } = await api(o, 'GET', '/api/v1/domains?pageSize=100');
  const domainId = domains.find((d) => d.domain === o.domain)?.id;
  if (!domainId) throw new Error(`no domain ${o.domain} over the API`);
  const { docs: settings } = await api(o, 'GET', `/api/v1/settings?domainId=${domainId}`);
  const setting = (key) => settings.find((x) => x.key === key)?.value;
  const lifetimeS = Number(setting('sessiontalk.qr_expiration'));
  const periodS = Number(setting('sessiontalk.key_rotation'));
  return async (ext) => codec.issue({ domainId, ext, nowS: Math.floor(Date.now() / 1000), lifetimeS, periodS }).token;
}

async function setup(o) {
  if (!o.token || !o.out) throw new Error('setup needs --token and --out');
  const issue = await codeIssuer(o);
  const devices = new Array(o.devices);
  const t0 = performance.now();
  let done = 0;
  await pool(o.devices, o['setup-concurrency'], async (i) => {
    const ext = String(o['first-user'] + i);
    const d = { ext, token: await issue(ext), deviceId: appDeviceId(i) };
    const res = await fetch(`${o.base}${o.path}?${provisionQuery(o, d, false)}`, {
      headers: { 'user-agent': o['user-agent'] },
    });
    const body = await res.text();
    const answer = res.status === 200 ? JSON.parse(body) : undefined;
    const account = answer?.sipaccounts?.[0];
    if (!answer?.update || answer.sipaccounts.length !== 1 || account.sipusername !== ext)
      throw new Error(`activation of ${ext} failed: ${res.status} ${body.slice(0, 200)}`);
    devices[i] = { ...d, md5: md5(JSON.stringify(answer.sipaccounts)) };
    if (++done % 1000 === 0) process.stderr.write(`setup: ${done}/${o.devices} activated\n`);
  });
  writeFileSync(o.out, devices.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const s = (performance.now() - t0) / 1000;
  console.log(
    `prov-setup: devices=${o.devices} codes=${o.codes} seconds=${s.toFixed(1)} rate_per_s=${(o.devices / s).toFixed(0)}`,
  );
}

/** The MAC of desk phone i: a Yealink OUI and i in the low bytes. */
const deskMac = (i) => `805ec0${i.toString(16).padStart(6, '0')}`;

async function deskSetup(o) {
  if (!o.token || !o.out) throw new Error('desk-setup needs --token and --out');
  const devices = new Array(o.devices);
  const t0 = performance.now();
  let done = 0;
  await pool(o.devices, o['setup-concurrency'], async (i) => {
    const ext = String(o['first-user'] + i);
    const mac = deskMac(i);
    await api(o, 'POST', '/api/v1/devices', { mac, vendor: 'yealink', domain: o.domain, lines: [{ line: 1, ext }] });
    devices[i] = { mac, ext };
    if (++done % 1000 === 0) process.stderr.write(`desk-setup: ${done}/${o.devices} devices\n`);
  });
  writeFileSync(o.out, devices.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const s = (performance.now() - t0) / 1000;
  console.log(`prov-desk-setup: devices=${o.devices} seconds=${s.toFixed(1)} rate_per_s=${(o.devices / s).toFixed(0)}`);
}

async function clearMd5(o) {
  if (!o.token) throw new Error('clear-md5 needs --token');
  const only = o['domain-id'] ? `?domainId=${encodeURIComponent(o['domain-id'])}` : '';
  const { devices } = await api(o, 'GET', `/api/v1/provisioning/devices${only}`);
  const stored = devices.filter((d) => d.jsonMd5 !== null);
  await pool(stored.length, o['setup-concurrency'], async (i) => {
    await api(o, 'PATCH', `/api/v1/provisioning/devices/${stored[i].id}`, { jsonMd5: null });
  });
  console.log(`prov-clear-md5: devices=${devices.length} cleared=${stored.length}`);
}

/** CPU seconds (user + system) of `pid` and every descendant, from /proc. */
function treeCpuS(pid) {
  if (!pid) return undefined;
  const tick = 100; // USER_HZ on Linux
  const stats = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(name), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / tick });
    } catch {
      /* gone meanwhile */
    }
  }
  const want = new Set([Number(pid)]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [p, s] of stats)
      if (!want.has(p) && want.has(s.ppid)) {
        want.add(p);
        grew = true;
      }
  }
  let cpu = 0;
  for (const p of want) cpu += stats.get(p)?.cpu ?? 0;
  return cpu;
}

/**
 * One HTTP/1.1 connection that sends a request at a time and reads Content-Length answers.
 * `send(bytes)` resolves {status, body} or rejects (timeout, close, malformed answer).
 */
class Connection {
  #o;
  #socket;
  #buf = Buffer.alloc(0);
  #pending;
  #closed = true;

  constructor(o, localAddress) {
    this.#o = o;
    this.localAddress = localAddress;
  }

  #open() {
    this.#closed = false;
    this.#buf = Buffer.alloc(0);
    const s = net.connect({ host: this.#o.host, port: this.#o.port, localAddress: this.localAddress, noDelay: true });
    // A socket replaced by a newer one (closed after its last answer) must not touch the newer one.
    s.on('data', (chunk) => {
      if (s !== this.#socket) return;
      this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
      this.#parse();
    });
    const gone = (err) => {
      if (s !== this.#socket) return;
      this.#closed = true;
      this.#fail(err ?? new Error('connection closed'));
    };
    s.on('error', gone);
    s.on('close', () => gone());
    this.#socket = s;
  }

  send(bytes) {
    if (this.#closed) this.#open();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(new Error('timeout'));
        this.#drop();
      }, this.#o.timeout * 1000);
      this.#pending = { resolve, reject, timer };
      this.#socket.write(bytes);
    });
  }

  close() {
    this.#drop();
  }

  /** Closes the socket now; the next send opens a new one. */
  #drop() {
    this.#closed = true;
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #fail(err) {
    const p = this.#pending;
    if (!p) return;
    this.#pending = undefined;
    clearTimeout(p.timer);
    p.reject(err);
  }

  #parse() {
    const p = this.#pending;
    const end = this.#buf.indexOf('\r\n\r\n');
    if (!p || end < 0) return;
    const head = this.#buf.toString('latin1', 0, end).split('\r\n');
    const status = Number(head[0].split(' ')[1]);
    let length;
    let close = false;
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') length = Number(value);
      else if (name === 'connection' && value.toLowerCase() === 'close') close = true;
      else if (name === 'transfer-encoding') length = NaN;
    }
    if (!Number.isInteger(length)) {
      this.#fail(new Error('answer without Content-Length'));
      this.#drop();
      return;
    }
    if (this.#buf.length < end + 4 + length) return;
    const body = this.#buf.subarray(end + 4, end + 4 + length);
    this.#buf = this.#buf.subarray(end + 4 + length);
    this.#pending = undefined;
    clearTimeout(p.timer);
    if (close || !this.#o.keepalive) this.#drop();
    p.resolve({ status, body });
  }
}

const quantile = (sorted, q) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;

async function storm(o) {
  const file = o['devices-file'] || o.out;
  if (!file) throw new Error('storm needs --devices-file');
  const devices = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
  const isStatic = o.static !== '';
  const desk = devices.length > 0 && devices[0].mac !== undefined;
  const staticBody = isStatic ? readFileSync(o.static) : undefined;
  if (!isStatic && !desk && !['true', 'false'].includes(o['expect-update']))
    throw new Error('storm needs --expect-update true|false (Handset) or --static FILE (anchor)');
  const expectUpdate = o['expect-update'] === 'true';
  o.keepalive = o.keepalive !== '0';
  const hostHeader = `${o.host}:${o.port}`;
  // Desk phones (devices with a mac): GET /prov/<mac>.cfg as a Yealink phone names itself.
  const requests = devices.map((d) =>
    Buffer.from(
      (desk ? `GET /prov/${d.mac}.cfg HTTP/1.1\r\n` : `GET ${o.path}?${provisionQuery(o, d, true)} HTTP/1.1\r\n`) +
        `Host: ${hostHeader}\r\n` +
        `User-Agent: ${desk ? `Yealink SIP-T46S 66.86.0.15 ${d.mac}` : o['user-agent']}\r\nAccept: */*\r\nAccept-Encoding: identity\r\n` +
        `Connection: ${o.keepalive ? 'keep-alive' : 'close'}\r\n\r\n`,
      'latin1',
    ),
  );
  const check = (i, status, body) => {
    if (status !== 200) return `status ${status}`;
    if (isStatic) return body.equals(staticBody) ? undefined : 'body differs from the static file';
    if (desk) {
      const text = body.toString('utf8');
      if (!text.startsWith('#!version:1.0.0.1\n')) return 'not a Yealink file';
      return text.includes(`\naccount.1.user_name = ${devices[i].ext}\n`) ? undefined : 'another extension';
    }
    let a;
    try {
      a = JSON.parse(body.toString('utf8'));
    } catch {
      return 'not JSON';
    }
    if (a.update !== expectUpdate) return `update ${a.update}`;
    if (a.errmsg !== 'Provisioned') return `errmsg ${a.errmsg}`;
    if (!Array.isArray(a.sipaccounts) || a.sipaccounts.length !== 1) return 'not one account';
    if (a.sipaccounts[0].sipusername !== devices[i].ext) return 'another extension';
    if (md5(JSON.stringify(a.sipaccounts)) !== devices[i].md5) return 'accounts differ from set-up';
    return undefined;
  };

  const n = requests.length;
  const latencies = new Float64Array(n);
  const sizes = new Uint32Array(n);
  const errors = new Map();
  const bodies = o['sample-out'] ? new Array(n) : undefined;
  const conns = Array.from(
    { length: Math.min(o.concurrency, n) },
    (_, k) => new Connection(o, o['source-ips'] > 0 ? `127.0.0.${2 + (k % o['source-ips'])}` : undefined),
  );
  const cpu0 = treeCpuS(o.pid);
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    conns.map(async (c) => {
      while (next < n) {
        const i = next++;
        const start = performance.now();
        let reason;
        try {
          const { status, body } = await c.send(requests[i]);
          sizes[i] = body.length;
          reason = check(i, status, body);
          if (!reason && bodies) bodies[i] = body;
        } catch (err) {
          reason = err.message;
        }
        latencies[i] = performance.now() - start;
        if (reason) errors.set(reason, (errors.get(reason) ?? 0) + 1);
      }
      c.close();
    }),
  );
  const wallS = (performance.now() - t0) / 1000;
  const cpu1 = treeCpuS(o.pid);
  const self = process.cpuUsage(self0);
  const failed = [...errors.values()].reduce((a, b) => a + b, 0);
  const sorted = Float64Array.from(latencies).sort();
  const sortedSizes = Uint32Array.from(sizes).sort();
  if (bodies) {
    // One real answer of median size: what the static anchor serves.
    const sample = bodies.find((b) => b?.length === sortedSizes[Math.floor(n / 2)]);
    if (sample) writeFileSync(o['sample-out'], sample);
  }
  const r = {
    label: o.label || o.base + o.path,
    requests: n,
    ok: n - failed,
    errors: failed,
    seconds: Number(wallS.toFixed(2)),
    rate_per_s: Math.round((n - failed) / wallS),
    p50_ms: Number(quantile(sorted, 0.5).toFixed(1)),
    p95_ms: Number(quantile(sorted, 0.95).toFixed(1)),
    p99_ms: Number(quantile(sorted, 0.99).toFixed(1)),
    body_bytes: sortedSizes[Math.floor(n / 2)],
    concurrency: conns.length,
    server_cpu_s: cpu0 === undefined ? 'n/a' : Number((cpu1 - cpu0).toFixed(2)),
    generator_cpu_s: Number(((self.user + self.system) / 1e6).toFixed(2)),
  };
  if (o.json) console.log(JSON.stringify({ ...r, error_reasons: Object.fromEntries(errors) }));
  else {
    for (const [why, count] of errors) console.log(`  error: ${why} x${count}`);
    console.log(
      `prov-storm: ${Object.entries(r)
        .map(([k, v]) => `${k}=${String(v).replaceAll(' ', '_')}`)
        .join(' ')}`,
    );
  }
  return failed === 0;
}

async function main() {
  let o;
  try {
    o = readOptions(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`prov-load: ${err.message}`);
    process.exit(2);
  }
  if (!o) {
    console.log(HELP);
    return;
  }
  if (o.command === 'setup') await setup(o);
  else if (o.command === 'desk-setup') await deskSetup(o);
  else if (o.command === 'clear-md5') await clearMd5(o);
  else if (o.command === 'storm') {
    if (!(await storm(o))) process.exitCode = 1;
  } else {
    console.error(`prov-load: unknown command ${o.command}\n${HELP}`);
    process.exit(2);
  }
}

main().catch((err) => {
  console.error(`prov-load: ${err.stack ?? err}`);
  process.exit(1);
});
