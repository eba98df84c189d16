/**
 * check-sync: tells a desk phone to fetch its configuration again (or to restart) with an
 * unsolicited NOTIFY to each contact the phone has registered, as Yealink, Polycom, Grandstream,
 * Snom and Fanvil accept it (`Event: check-sync`) and Cisco SPA/MPP (`Event: resync`). Sent through
 * the server's SIP endpoint; the phone answers 200 and fetches.
 */
import {
  newBranch,
  newCallId,
  newTag,
  SipRequest,
  type SendTarget,
  type SipResponse,
  type TransportProtocol,
} from '@handset/sip';
import type { Logger } from 'pino';
import type { Binding } from '../../registrar/binding.js';
import type { DeskPhone } from './desk-phone-repository.js';
import { checkSyncEvent } from './desk-vendors.js';
import { macsIn } from './mac-address.js';

/** What the notifier needs of the SIP side (wired in main.ts). */
export interface CheckSyncSip {
  /** Current bindings of an address-of-record (`ext@domain`). */
  lookup(aor: string): Binding[];
  /** Sends a request in a new client transaction. */
  sendRequest(
    request: SipRequest,
    target: SendTarget,
    handler: { onResponse(res: SipResponse): void; onTimeout(): void; onTransportError(): void },
  ): void;
  /** Our Via sent-by for a transport (`host:port`). */
  sentBy(protocol: TransportProtocol): string;
}

/** The outcome for one contact. */
export interface CheckSyncResult {
  contact: string;
  /** Final status, or 408 (timeout) / 503 (transport error). */
  status: number;
}

/**
 * Sends check-sync to desk phones. Until {@link attach} gives it the SIP side (which starts after
 * HTTP), a request is a no-op that reports no contacts.
 */
export class CheckSyncNotifier {
  #sip: CheckSyncSip | undefined;

  constructor(private readonly logger: Logger) {}

  /** Gives the notifier the running SIP endpoint. */
  attach(sip: CheckSyncSip): void {
    this.#sip = sip;
  }

  /**
   * The phone's registered contacts: bindings of its lines whose User-Agent carries its MAC, or that
   * come from the address the phone last fetched from. One per source (several lines of one phone
   * register from the same address).
   */
  contactsOf(p: DeskPhone): Binding[] {
    const sip = this.#sip;
    if (!sip) return [];
    const seen = new Set<string>();
    const out: Binding[] = [];
    for (const line of p.lines) {
      for (const b of sip.lookup(`${line.ext}@${p.domain}`)) {
        const ours =
          (b.userAgent !== undefined && macsIn(b.userAgent).includes(p.mac)) ||
          (p.lastContactIp !== undefined && sameAddress(b.sourceAddress, p.lastContactIp));
        const key = `${b.transport}|${b.sourceAddress}|${b.sourcePort}`;
        if (!ours || seen.has(key)) continue;
        seen.add(key);
        out.push(b);
      }
    }
    return out;
  }

  /** Sends the vendor's NOTIFY to every registered contact of `p`; resolves with each outcome. */
  async notify(p: DeskPhone, opts: { reboot?: boolean } = {}): Promise<CheckSyncResult[]> {
    const sip = this.#sip;
    if (!sip) return [];
    const event = checkSyncEvent(p.vendor, opts.reboot ?? false);
    const results = await Promise.all(this.contactsOf(p).map((b) => this.#send(sip, b, event)));
    this.logger.info({ mac: p.mac, event, results }, 'check-sync sent');
    return results;
  }

  #send(sip: CheckSyncSip, b: Binding, event: string): Promise<CheckSyncResult> {
    const aor = `sip:${b.aor}`;
    const target: SendTarget = {
      protocol: b.transport,
      address: b.sourceAddress,
      port: b.sourcePort,
      flowId: b.flowId,
    };
    const req = new SipRequest('NOTIFY', b.contactUri);
    req.appendHeader(
      'Via',
      `SIP/2.0/${b.transport.toUpperCase()} ${sip.sentBy(b.transport)};branch=${newBranch()};rport`,
    );
    req.appendHeader('Max-Forwards', '70');
    req.appendHeader('From', `<${aor}>;tag=${newTag()}`);
    req.appendHeader('To', `<${aor}>`);
    req.appendHeader('Call-ID', newCallId());
    req.appendHeader('CSeq', '1 NOTIFY');
    req.appendHeader('Event', event);
    // RFC 6665 §8.2.1: a NOTIFY carries Subscription-State; there is no subscription to keep.
    req.appendHeader('Subscription-State', 'terminated');
    req.appendHeader('Content-Length', '0');
    return new Promise((resolve) => {
      sip.sendRequest(req, target, {
        onResponse: (res) => {
          if (res.status >= 200) resolve({ contact: b.contactUri, status: res.status });
        },
        onTimeout: () => resolve({ contact: b.contactUri, status: 408 }),
        onTransportError: () => resolve({ contact: b.contactUri, status: 503 }),
      });
    });
  }
}

function sameAddress(a: string, b: string): boolean {
  const strip = (s: string) => (s.startsWith('::ffff:') ? s.slice(7) : s);
  return strip(a) === strip(b);
}
