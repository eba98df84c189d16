/**
 * Platform events: what the event stream (`/api/v1/events`) pushes and webhooks deliver. Each
 * carries the tenant it belongs to so a subscriber sees only its own domain's events.
 */

/** Registration changes, from the location service. */
export type RegistrationEventType =
  'registration.registered' | 'registration.refreshed' | 'registration.unregistered' | 'registration.expired';

/** Call lifecycle, from the call tracker. */
export type CallEventType = 'call.started' | 'call.answered';

/** A call ended (`call.ended`) or its CDR was stored (`cdr.created`); both carry the CDR. */
export type CdrEventType = 'call.ended' | 'cdr.created';

/** Directory resources whose changes are published. */
export type DirectoryResource = 'domain' | 'user' | 'group' | 'member' | 'contact' | 'setting' | 'token';

/** Directory changes, e.g. `user.created`. */
export type DirectoryEventType = `${DirectoryResource}.${'created' | 'updated' | 'deleted'}`;

/** Every event type on the bus. */
export type PlatformEventType = RegistrationEventType | CallEventType | CdrEventType | DirectoryEventType;

/** A binding as published: no Call-ID, CSeq or Path (internal routing state). */
export interface RegistrationPayload {
  aor: string;
  contact: string;
  transport: string;
  /** `address:port` the REGISTER came from. */
  source: string;
  userAgent: string | undefined;
  instanceId: string | undefined;
  /** ISO 8601. */
  expiresAt: string;
}

/** A call in progress. */
export interface CallPayload {
  callId: string;
  caller: string;
  callee: string;
  callerDevice: string | undefined;
  calleeDevice: string | undefined;
  startedAt: string;
  answeredAt: string | undefined;
}

/** A finished call attempt (the CDR). */
export interface CdrPayload {
  /** The CDR's id (as in the REST API) when known. */
  id: string | undefined;
  callId: string;
  caller: string;
  callee: string;
  callerDevice: string | undefined;
  calleeDevice: string | undefined;
  startedAt: string;
  answeredAt: string | undefined;
  endedAt: string;
  durationS: number;
  billableS: number;
  disposition: string;
  sipStatus: number;
  sipReason: string | undefined;
  hangupBy: string | undefined;
}

/** A directory change: which record (its id); readers fetch the record through the API. */
export interface DirectoryPayload {
  id: string;
}

interface EventOf<T extends PlatformEventType, P> {
  type: T;
  /** The tenant's SIP domain (lowercase), when the source knows it. */
  domain: string | undefined;
  /** The tenant's id, when the source knows it. At least one of domain and domainId is set. */
  domainId: string | undefined;
  /** When it happened, ISO 8601. */
  at: string;
  payload: P;
}

/** One platform event. */
export type PlatformEvent =
  | EventOf<RegistrationEventType, RegistrationPayload>
  | EventOf<CallEventType, CallPayload>
  | EventOf<CdrEventType, CdrPayload>
  | EventOf<DirectoryEventType, DirectoryPayload>;

/**
 * The addresses (`user@domain`) an event is about: an agent sees the events whose parties include
 * one of their own AORs. Directory events have none (they are matched by record id instead).
 */
export function eventParties(e: PlatformEvent): string[] {
  if (e.type.startsWith('registration.')) return [(e.payload as RegistrationPayload).aor];
  if (e.type.startsWith('call.') || e.type === 'cdr.created') {
    const p = e.payload as CallPayload | CdrPayload;
    return [p.caller, p.callee];
  }
  return [];
}

/** An event filter: `*`, a family (`call.*`) or one type (`cdr.created`). */
export const EVENT_FILTER =
  /^(\*|(registration|call|cdr|domain|user|group|member|contact|setting|token)\.(\*|[a-z]{1,32}))$/;

/** True when `type` matches a filter entry: `*`, `call.*`, or an exact type. */
export function eventTypeMatches(filter: string, type: string): boolean {
  if (filter === '*') return true;
  if (filter.endsWith('.*')) return type.startsWith(filter.slice(0, -1));
  return filter === type;
}
