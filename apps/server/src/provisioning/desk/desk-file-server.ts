/**
 * Answers a desk phone's file request (`/prov/<file>`, `/app/provision/<file>`, or either with the
 * device secret as first segment) from memory: the phone by MAC from the catalog, the access rules
 * (User-Agent consistent with the path, CIDR allowlist, HTTP credentials or the device secret), the
 * file rendered once and kept with its ETag until something it depends on changes. Every refusal
 * that could tell whether a MAC exists is the same 404.
 */
import type { Logger } from 'pino';
import type { ProvisioningDirectory } from '../provisioning-ports.js';
import type { DeskVendor } from '../provisioning-tables.js';
import type { DeskConfig, DeskLine, DeskTransport } from './desk-config.js';
import type { CachedFile, DeskPhoneCatalog } from './desk-phone-catalog.js';
import type { DeskPhone } from './desk-phone-repository.js';
import { applyOverrides, type DeskSettings } from './desk-settings.js';
import {
  classifyDeskFile,
  parseUserAgent,
  phonebookFileName,
  renderCommon,
  renderConfig,
  renderPhonebook,
  type DeskFile,
  type RenderedFile,
} from './desk-vendors.js';
import type { HttpDigest } from './http-digest.js';

/** One request as the HTTP layer hands it over. */
export interface DeskFileRequest {
  /** The path after the prefix, undecoded, without the query (`805ec0123456.cfg`, `<secret>/phonebook.xml`). */
  path: string;
  /** The route prefix the phone used (`/prov/` or `/app/provision/`). */
  prefix: string;
  method: string;
  /** The request target as on the request line (what a digest `uri` names). */
  target: string;
  host: string | undefined;
  userAgent: string | undefined;
  authorization: string | undefined;
  ifNoneMatch: string | undefined;
  ip: string;
  /** Arrived over HTTPS (Basic credentials are accepted only then). */
  secure: boolean;
}

/** The answer. */
export interface DeskFileAnswer {
  status: 200 | 304 | 401 | 404;
  headers: Record<string, string | string[]>;
  body: string;
}

/** Where phones register: Handset's public host and its SIP ports (known once SIP listens). */
export interface DeskSipServer {
  host: string;
  ports: Partial<Record<DeskTransport, number>>;
}

/** The realm of the provisioning credentials: one for every domain, so it names none. */
export const PROVISIONING_REALM = 'Handset provisioning';

const NOT_FOUND: DeskFileAnswer = {
  status: 404,
  headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  body: 'Not Found\n',
};
const SECRET = /^[A-Za-z0-9_-]{16,64}$/;

/** Dependencies of {@link DeskFileServer}. */
export interface DeskFileServerOptions {
  catalog: DeskPhoneCatalog;
  settings: DeskSettings;
  directory: ProvisioningDirectory;
  digest: HttpDigest;
  /** Base URL phones reach Handset at (`https://pbx.example.com`), for URLs inside files. */
  publicUrl: string;
  /** Records an unknown phone as pending (auto-insert). */
  insertPending(domainId: string, mac: string, vendor: DeskVendor, model: string | undefined): Promise<void>;
  logger: Logger;
  clock?: () => number;
}

/** Serves desk-phone files. */
export class DeskFileServer {
  #sip: DeskSipServer | undefined;
  readonly #common = new Map<string, CachedFile>();
  readonly #clock: () => number;

  constructor(private readonly o: DeskFileServerOptions) {
    this.#clock = o.clock ?? Date.now;
  }

  /** Gives the SIP host and ports files name (before this, files name port 5060/5061). */
  attachSip(sip: DeskSipServer): void {
    this.#sip = sip;
    this.#common.clear();
  }

  /** Answers one request; never throws for bad input. */
  async serve(req: DeskFileRequest): Promise<DeskFileAnswer> {
    const parsed = splitPath(req.path);
    if (!parsed) return NOT_FOUND;
    const file = classifyDeskFile(parsed.name);
    if (!file) return NOT_FOUND;
    const bySecret = parsed.secret === undefined ? undefined : this.o.catalog.bySecret(parsed.secret);
    if (parsed.secret !== undefined && !bySecret) return NOT_FOUND;
    if (file.kind === 'common') return this.#commonFile(file.vendor, req, parsed.secret);

    const phone = file.mac === undefined ? bySecret : this.o.catalog.byMac(file.mac);
    const ua = parseUserAgent(req.userAgent);
    if (!phone) {
      if (file.kind === 'config') await this.#autoInsert(file, ua.vendor, ua.model, req);
      return NOT_FOUND;
    }
    if (bySecret && bySecret !== phone) return NOT_FOUND;
    if (!file.vendors.includes(phone.vendor) || phone.status !== 'active' || !phone.enabled) return NOT_FOUND;
    // The phone's User-Agent must not name another MAC or another vendor than the path.
    if ((ua.macs.length > 0 && !ua.macs.includes(phone.mac)) || (ua.vendor !== undefined && ua.vendor !== phone.vendor))
      return this.#refuse(phone, req, 'User-Agent names another phone or vendor');

    const settings = await this.o.settings.get(phone.domainId);
    if (
      settings.allowed &&
      !settings.allowed.check(
        stripV4Mapped(req.ip),
        req.ip.includes(':') && !req.ip.startsWith('::ffff:') ? 'ipv6' : 'ipv4',
      )
    )
      return this.#refuse(phone, req, 'source address outside provisioning.allowed_cidrs');
    if (!bySecret && settings.credentials) {
      const result = this.o.digest.check(
        req.authorization,
        { ...settings.credentials, realm: PROVISIONING_REALM },
        { method: req.method === 'HEAD' ? 'HEAD' : 'GET', uri: req.target, basic: req.secure },
      );
      if (result !== 'ok') {
        if (result === 'wrong') this.o.logger.info({ mac: phone.mac, ip: req.ip }, 'desk phone gave wrong credentials');
        return {
          status: 401,
          headers: {
            'www-authenticate': this.o.digest.challenge(PROVISIONING_REALM, {
              stale: result === 'stale',
              basic: req.secure,
            }),
            'content-type': 'text/plain; charset=utf-8',
            'cache-control': 'no-store',
          },
          body: 'Unauthorized\n',
        };
      }
    }

    const stamp = this.o.catalog.stamp(phone, `${settings.stamp}|${this.#sip?.ports.udp ?? ''}`);
    const cached = await this.o.catalog.file(phone, parsed.name, stamp, () =>
      file.kind === 'phonebook' ? this.#phonebook(phone) : this.#config(phone, file, parsed.name, settings),
    );
    if (file.kind === 'config')
      this.o.catalog.recordContact(phone, {
        at: new Date(this.#clock()),
        ip: req.ip,
        firmware: ua.firmware,
        model: ua.model,
        userAgent: req.userAgent?.slice(0, 256),
      });
    return answer(cached, req);
  }

  #commonFile(vendor: DeskVendor, req: DeskFileRequest, secret: string | undefined): DeskFileAnswer {
    const base = `${this.o.publicUrl}${req.prefix}${secret === undefined ? '' : `${secret}/`}`;
    let file = this.#common.get(`${vendor}|${base}`);
    if (!file) {
      const r = renderCommon(vendor, base);
      file = { ...r, etag: `"c-${vendor}-${r.body.length}-${hashCode(r.body)}"` };
      if (this.#common.size > 1000) this.#common.clear();
      this.#common.set(`${vendor}|${base}`, file);
    }
    return answer(file, req);
  }

  async #config(
    phone: DeskPhone,
    file: Extract<DeskFile, { kind: 'config' }>,
    name: string,
    settings: Awaited<ReturnType<DeskSettings['get']>>,
  ): Promise<RenderedFile> {
    const sip = this.#sip ?? { host: new URL(this.o.publicUrl).hostname, ports: { udp: 5060, tcp: 5060, tls: 5061 } };
    const lines: DeskLine[] = [];
    for (const l of phone.lines) {
      if (!l.enabled) continue;
      const c = await this.o.catalog.credentials(phone.domain, l.ext);
      if (!c) continue; // user deactivated or gone: the line is left out
      const transport: DeskTransport = sip.ports[l.transport] !== undefined ? l.transport : 'udp';
      lines.push({
        no: l.no,
        ext: l.ext,
        domain: phone.domain,
        authUser: l.ext,
        password: c.password,
        displayName: c.displayName ?? l.ext,
        label: c.displayName ? `${l.ext} ${c.displayName}` : l.ext,
        server: { host: sip.host.replace(/^\[|\]$/g, ''), port: sip.ports[transport] ?? 5060, transport },
      });
    }
    const config: DeskConfig = {
      mac: phone.mac,
      vendor: phone.vendor,
      model: phone.model,
      lines,
      keys: phone.keys,
      profile: applyOverrides(settings.profile, phone.overrides),
      phonebookUrl: `${this.o.publicUrl}/prov/${phone.secret}/${phonebookFileName(phone.vendor, phone.mac)}`,
      registerExpiresS: settings.registerExpiresS,
    };
    return renderConfig(config, file.role, name);
  }

  async #phonebook(phone: DeskPhone): Promise<RenderedFile> {
    const users = await this.o.directory.listExtensions(phone.domainId);
    const entries = users
      .map((u) => ({ name: u.name ?? u.ext, number: u.ext }))
      .sort((a, b) => a.name.localeCompare(b.name) || a.number.localeCompare(b.number));
    return renderPhonebook(phone.vendor, entries);
  }

  async #autoInsert(
    file: Extract<DeskFile, { kind: 'config' }>,
    uaVendor: DeskVendor | undefined,
    model: string | undefined,
    req: DeskFileRequest,
  ): Promise<void> {
    const vendor =
      uaVendor !== undefined && file.vendors.includes(uaVendor)
        ? uaVendor
        : file.vendors.length === 1
          ? file.vendors[0]
          : undefined;
    const host = req.host?.replace(/:\d+$/, '').toLowerCase();
    if (vendor === undefined || !host || host.length > 253) return;
    try {
      const domain = await this.o.directory.findDomain(host);
      if (!domain || !(await this.o.settings.get(domain.id)).autoInsert) return;
      await this.o.insertPending(domain.id, file.mac, vendor, model);
    } catch (err) {
      this.o.logger.warn({ err, mac: file.mac }, 'auto-insert of an unknown desk phone failed');
    }
  }

  #refuse(phone: DeskPhone, req: DeskFileRequest, reason: string): DeskFileAnswer {
    this.o.logger.info({ mac: phone.mac, ip: req.ip, reason }, 'desk-phone file refused');
    return NOT_FOUND;
  }
}

function answer(file: CachedFile, req: DeskFileRequest): DeskFileAnswer {
  const headers = { 'content-type': file.contentType, etag: file.etag, 'cache-control': 'no-cache' };
  if (req.ifNoneMatch !== undefined && req.ifNoneMatch.split(/\s*,\s*/).includes(file.etag))
    return { status: 304, headers, body: '' };
  return { status: 200, headers, body: file.body };
}

/** `name` or `secret/name`; undefined for anything else (more segments, dots, escapes). */
function splitPath(path: string): { secret: string | undefined; name: string } | undefined {
  if (path.length > 200 || /[%\\]|\.\./.test(path)) return undefined;
  const parts = path.split('/');
  if (parts.length === 1) return { secret: undefined, name: parts[0]! };
  if (parts.length === 2 && SECRET.test(parts[0]!)) return { secret: parts[0], name: parts[1]! };
  return undefined;
}

function stripV4Mapped(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

function hashCode(s: string): string {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return (h >>> 0).toString(36);
}
