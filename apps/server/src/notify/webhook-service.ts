/**
 * Webhooks: per-domain HTTP endpoints that receive the platform events they subscribe to, each
 * POST signed with HMAC-SHA256 over `<timestamp>.<body>`. Deliveries are rows of
 * `webhook_deliveries` first and HTTP requests second, so the queue survives a restart; failed
 * attempts are retried with exponential backoff and jitter, then marked failed.
 *
 * Delivery states: pending --2xx--> delivered; pending --error, attempts left--> pending (later);
 * pending --error, none left--> failed.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { and, count, desc, eq, lt, ne, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { SecretBox } from '../config/secret-box.js';
import { DirectoryError } from '../directory/directory-error.js';
import { directoryRights } from '../directory/directory-rights.js';
import { pageBounds, toPage, type Page } from '../directory/paged-list.js';
import type { Principal } from '../directory/principal.js';
import type { PlatformEvent } from '../events/platform-event.js';
import { eventTypeMatches } from '../events/platform-event.js';
import type { Store } from '../store/store.js';
import { DEFAULT_RETRY_POLICY, retryDelay, type RetryPolicy } from './retry-policy.js';
import { deliveryQuerySchema, newWebhookSchema, parseInput, webhookPatchSchema } from './webhook-schemas.js';
import { webhookDeliveries, webhooks, type WebhookDeliveryStatus } from './webhook-tables.js';

/** A webhook as the API shows it (never the secret, except once in {@link WebhookWithSecret}). */
export interface Webhook {
  id: string;
  domainId: string;
  domain: string;
  url: string;
  events: string[];
  description: string | undefined;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** A webhook with its signing secret: the answer to create and to a secret rotation. */
export interface WebhookWithSecret extends Webhook {
  secret: string;
}

/** One entry of the delivery log. */
export interface WebhookDelivery {
  id: string;
  eventType: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: Date | undefined;
  lastAttemptAt: Date | undefined;
  lastError: string | undefined;
  responseCode: number | undefined;
  createdAt: Date;
  deliveredAt: Date | undefined;
  /** The exact JSON body sent (and signed). */
  body: string;
}

/** Finds a domain by id for a superadmin's requests (the DomainService); throws NOT_FOUND. */
export interface DomainLookup {
  get(p: Principal, id: string): Promise<{ id: string; domain: string }>;
}

/** Schedules a callback; returns the function that cancels it. */
export type Scheduler = (fn: () => void, ms: number) => () => void;

/** Options of {@link WebhookService}. */
export interface WebhookServiceOptions {
  store: Store;
  /** Seals the signing secrets at rest. */
  secrets: Pick<SecretBox, 'seal' | 'open'>;
  domains: DomainLookup;
  logger?: Logger | undefined;
  clock?: (() => number) | undefined;
  scheduler?: Scheduler | undefined;
  random?: (() => number) | undefined;
  fetch?: typeof fetch | undefined;
  retry?: Partial<RetryPolicy> | undefined;
  /** Per request (default 10 s). */
  timeoutMs?: number | undefined;
  /** Requests in flight at once (default 4). */
  concurrency?: number | undefined;
  /** Pending deliveries one webhook may queue; further events are dropped and logged (default 1000). */
  maxPendingPerWebhook?: number | undefined;
  maxWebhooksPerDomain?: number | undefined;
  /** Finished deliveries older than this are pruned from the log (default 30 days). */
  retentionMs?: number | undefined;
  /** How often the webhook list is re-read, for changes made by other nodes (default 30 s). */
  reloadIntervalMs?: number | undefined;
}

type Row = typeof webhooks.$inferSelect;
interface Cached {
  row: Row;
  secret: string;
}

/** What one claim of a due delivery returns. */
interface Claimed {
  id: string;
  webhook_id: string;
  event_type: string;
  body: string;
  attempts: number;
}

const defaultScheduler: Scheduler = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

/** Longest wait between two looks at the queue (picks up rows other nodes wrote). */
const MAX_IDLE_MS = 30_000;

/** Manages webhooks (rights-checked) and delivers events to them. */
export class WebhookService {
  private readonly cache = new Map<string, Cached>();
  private readonly pendingCount = new Map<string, number>();
  private readonly inserts = new Set<Promise<void>>();
  private readonly clock: () => number;
  private readonly schedule: Scheduler;
  private readonly retry: RetryPolicy;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly maxPending: number;
  private cancelWake: (() => void) | undefined;
  private cancelReload: (() => void) | undefined;
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;
  private lastPrune = 0;
  private lastDropLog = 0;
  private started = false;
  private closed = false;
  /** Aborts the requests in flight at close, so shutdown does not wait for slow receivers. */
  private readonly stopping = new AbortController();

  constructor(private readonly o: WebhookServiceOptions) {
    this.clock = o.clock ?? Date.now;
    this.schedule = o.scheduler ?? defaultScheduler;
    this.retry = { ...DEFAULT_RETRY_POLICY, ...o.retry };
    this.fetch = o.fetch ?? fetch;
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.concurrency = o.concurrency ?? 4;
    this.maxPending = o.maxPendingPerWebhook ?? 1000;
  }

  /** Loads the webhooks and the pending queue, and starts delivering. */
  async start(): Promise<void> {
    await this.reload();
    const counts = await this.o.store.db
      .select({ webhookId: webhookDeliveries.webhookId, n: count() })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.status, 'pending'))
      .groupBy(webhookDeliveries.webhookId);
    for (const c of counts) this.pendingCount.set(c.webhookId, Number(c.n));
    this.started = true;
    this.scheduleReload();
    this.kick();
  }

  /** Stops delivering; waits for queued inserts and the attempts in flight. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopping.abort();
    this.cancelWake?.();
    this.cancelReload?.();
    await Promise.all([...this.inserts]);
    await this.pumping;
  }

  // ---- management (rights: the domain's owner, or a superadmin) ----

  /** Webhooks the principal may manage; a superadmin may narrow to one domain. */
  async list(p: Principal, opts: { domainId?: string | undefined } = {}): Promise<Webhook[]> {
    const domainId = this.scopeOf(p, opts.domainId);
    const rows = await this.o.store.db
      .select()
      .from(webhooks)
      .where(domainId === undefined ? undefined : eq(webhooks.domainId, domainId))
      .orderBy(webhooks.createdAt);
    return rows.map(toWebhook);
  }

  /** One webhook by id. */
  async get(p: Principal, id: string): Promise<Webhook> {
    return toWebhook(await this.load(p, id));
  }

  /** Creates a webhook and returns it with its secret (shown this once). */
  async create(p: Principal, input: unknown): Promise<WebhookWithSecret> {
    const v = parseInput(newWebhookSchema, input);
    const { domainId, domain } = await this.targetDomain(p, v.domainId);
    const [n] = await this.o.store.db.select({ n: count() }).from(webhooks).where(eq(webhooks.domainId, domainId));
    if (Number(n?.n ?? 0) >= (this.o.maxWebhooksPerDomain ?? 20))
      throw new DirectoryError('CONFLICT', 'this domain has as many webhooks as it may have');
    const secret = newSecret();
    const now = new Date(this.clock());
    const [row] = await this.o.store.db
      .insert(webhooks)
      .values({
        domainId,
        domain,
        url: v.url,
        events: v.events,
        secretEnc: this.o.secrets.seal(secret),
        description: v.description ?? null,
        active: v.active,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    this.cache.set(row!.id, { row: row!, secret });
    return { ...toWebhook(row!), secret };
  }

  /** Changes a webhook; the answer carries a new secret when `rotateSecret` was asked for. */
  async update(p: Principal, id: string, input: unknown): Promise<Webhook | WebhookWithSecret> {
    const v = parseInput(webhookPatchSchema, input);
    const current = await this.load(p, id);
    const secret = v.rotateSecret ? newSecret() : undefined;
    const [row] = await this.o.store.db
      .update(webhooks)
      .set({
        ...(v.url === undefined ? {} : { url: v.url }),
        ...(v.events === undefined ? {} : { events: v.events }),
        ...(v.description === undefined ? {} : { description: v.description }),
        ...(v.active === undefined ? {} : { active: v.active }),
        ...(secret === undefined ? {} : { secretEnc: this.o.secrets.seal(secret) }),
        updatedAt: new Date(this.clock()),
      })
      .where(eq(webhooks.id, current.id))
      .returning();
    if (!row) throw DirectoryError.notFound('webhook');
    this.cache.set(row.id, { row, secret: secret ?? this.o.secrets.open(row.secretEnc) });
    if (row.active) this.kick();
    return secret === undefined ? toWebhook(row) : { ...toWebhook(row), secret };
  }

  /** Deletes a webhook and its delivery log. */
  async remove(p: Principal, id: string): Promise<void> {
    const current = await this.load(p, id);
    await this.o.store.db.delete(webhooks).where(eq(webhooks.id, current.id));
    this.cache.delete(current.id);
    this.pendingCount.delete(current.id);
  }

  /** The delivery log of a webhook, newest first. */
  async deliveries(p: Principal, id: string, query: unknown = {}): Promise<Page<WebhookDelivery>> {
    const q = parseInput(deliveryQuerySchema, query);
    const hook = await this.load(p, id);
    const b = pageBounds(q);
    const where = and(
      eq(webhookDeliveries.webhookId, hook.id),
      q.status === undefined ? undefined : eq(webhookDeliveries.status, q.status),
    );
    const [total] = await this.o.store.db.select({ n: count() }).from(webhookDeliveries).where(where);
    const rows = await this.o.store.db
      .select()
      .from(webhookDeliveries)
      .where(where)
      .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
      .limit(b.limit)
      .offset(b.offset);
    return toPage(rows.map(toDelivery), Number(total?.n ?? 0), b);
  }

  // ---- delivery ----

  /**
   * True when handle() could do anything with an event of this type: an active webhook (of any domain)
   * subscribes to it, or it is `domain.deleted`, which handle() always needs for its cache.
   */
  wants(type: PlatformEvent['type']): boolean {
    if (this.closed) return false;
    if (type === 'domain.deleted') return true;
    for (const { row } of this.cache.values()) {
      if (row.active && row.events.some((f) => eventTypeMatches(f, type))) return true;
    }
    return false;
  }

  /** Queues the event for every active webhook of its domain that subscribes to its type. */
  handle(event: PlatformEvent): void {
    if (this.closed) return;
    if (event.type === 'domain.deleted') {
      for (const [id, c] of this.cache) if (c.row.domainId === event.payload.id) this.cache.delete(id);
      return;
    }
    for (const { row } of this.cache.values()) {
      if (!row.active) continue;
      const inDomain =
        (event.domainId !== undefined && event.domainId === row.domainId) ||
        (event.domain !== undefined && event.domain === row.domain);
      if (!inDomain || !row.events.some((f) => eventTypeMatches(f, event.type))) continue;
      const pending = this.pendingCount.get(row.id) ?? 0;
      if (pending >= this.maxPending) {
        this.logDrop(row.id, event.type);
        continue;
      }
      this.pendingCount.set(row.id, pending + 1);
      this.track(this.enqueue(row, event));
    }
  }

  /** Resolves when everything queued so far has been written (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.inserts.size > 0) await Promise.all([...this.inserts]);
  }

  private async enqueue(row: Row, event: PlatformEvent): Promise<void> {
    const id = randomUUID();
    const body = JSON.stringify({ id, type: event.type, domain: row.domain, at: event.at, payload: event.payload });
    const now = new Date(this.clock());
    try {
      await this.o.store.db.insert(webhookDeliveries).values({
        id,
        webhookId: row.id,
        eventType: event.type,
        body,
        status: 'pending',
        nextAttemptAt: now,
        createdAt: now,
      });
    } catch (err) {
      this.pendingCount.set(row.id, Math.max(0, (this.pendingCount.get(row.id) ?? 1) - 1));
      this.o.logger?.warn({ err, webhook: row.id }, 'could not queue webhook delivery');
      return;
    }
    this.kick();
  }

  private track(p: Promise<void>): void {
    this.inserts.add(p);
    void p.finally(() => this.inserts.delete(p));
  }

  /** Runs the queue now (or once more right after the current run). */
  private kick(): void {
    if (!this.started || this.closed) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.cancelWake?.();
    this.cancelWake = undefined;
    this.pumping = this.pump()
      .catch((err: unknown) => this.o.logger?.error({ err }, 'webhook delivery run failed'))
      .finally(() => {
        this.pumping = undefined;
        if (this.pumpAgain) {
          this.pumpAgain = false;
          this.kick();
        }
      });
  }

  /** Delivers what is due, then sleeps until the next delivery is due. */
  private async pump(): Promise<void> {
    for (;;) {
      this.pumpAgain = false;
      if (this.closed) return;
      const batch = await this.claim(this.concurrency);
      if (batch.length === 0) break;
      await Promise.all(batch.map((d) => this.attempt(d)));
    }
    await this.prune();
    if (this.closed || this.pumpAgain) return;
    const [next] = await this.o.store.db
      .select({ at: sql<Date | string>`min(${webhookDeliveries.nextAttemptAt})` })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.status, 'pending'));
    const at = next?.at === null || next?.at === undefined ? undefined : new Date(next.at).getTime();
    const wait = at === undefined ? MAX_IDLE_MS : Math.min(MAX_IDLE_MS, Math.max(0, at - this.clock()));
    if (!this.closed) this.cancelWake = this.schedule(() => this.kick(), wait);
  }

  /**
   * Takes up to `n` due deliveries of active webhooks, counting the attempt and leasing each
   * row until the attempt must have ended (SKIP LOCKED: nodes sharing a database take
   * different rows; a node that dies mid-attempt leaves the row to be retried after the lease).
   */
  private async claim(n: number): Promise<Claimed[]> {
    const now = new Date(this.clock());
    const lease = new Date(this.clock() + this.timeoutMs * 2 + 1000);
    const result = (await this.o.store.db.execute(sql`
      update webhook_deliveries set attempts = attempts + 1, last_attempt_at = ${now}, next_attempt_at = ${lease}
      where id in (
        select d.id from webhook_deliveries d join webhooks w on w.id = d.webhook_id
        where d.status = 'pending' and w.active and d.next_attempt_at <= ${now}
        order by d.next_attempt_at
        limit ${n}
        for update of d skip locked
      )
      returning id, webhook_id, event_type, body, attempts`)) as { rows: Claimed[] };
    return result.rows;
  }

  private async attempt(d: Claimed): Promise<void> {
    const hook = this.cache.get(d.webhook_id);
    let outcome: { ok: boolean; code: number | undefined; error: string | undefined };
    if (hook === undefined) outcome = { ok: false, code: undefined, error: 'webhook not loaded' };
    else outcome = await this.post(hook, d);
    const now = this.clock();
    const attempts = Number(d.attempts);
    const giveUp = !outcome.ok && attempts >= this.retry.maxAttempts;
    const status: WebhookDeliveryStatus = outcome.ok ? 'delivered' : giveUp ? 'failed' : 'pending';
    await this.o.store.db
      .update(webhookDeliveries)
      .set({
        status,
        responseCode: outcome.code ?? null,
        lastError: outcome.error ?? null,
        nextAttemptAt: status === 'pending' ? new Date(now + retryDelay(attempts, this.retry, this.o.random)) : null,
        deliveredAt: outcome.ok ? new Date(now) : null,
      })
      .where(eq(webhookDeliveries.id, d.id));
    if (status !== 'pending')
      this.pendingCount.set(d.webhook_id, Math.max(0, (this.pendingCount.get(d.webhook_id) ?? 1) - 1));
    if (!outcome.ok)
      this.o.logger?.info(
        { webhook: d.webhook_id, delivery: d.id, attempts, error: outcome.error, giveUp },
        'webhook delivery failed',
      );
  }

  /** One signed POST; any 2xx is success, a redirect is not followed (and counts as failure). */
  private async post(
    hook: Cached,
    d: Claimed,
  ): Promise<{ ok: boolean; code: number | undefined; error: string | undefined }> {
    const timestamp = String(Math.floor(this.clock() / 1000));
    const signature = createHmac('sha256', hook.secret).update(`${timestamp}.${d.body}`).digest('hex');
    try {
      const res = await this.fetch(hook.row.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.stopping.signal]),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Handset-Webhooks/1',
          'x-handset-event': d.event_type,
          'x-handset-delivery': d.id,
          'x-handset-timestamp': timestamp,
          'x-handset-signature': `sha256=${signature}`,
        },
        body: d.body,
      });
      // The receiver's answer is not used; do not hold its connection reading it.
      await res.body?.cancel().catch(() => undefined);
      const ok = res.status >= 200 && res.status < 300;
      return { ok, code: res.status, error: ok ? undefined : `HTTP ${res.status}` };
    } catch (err) {
      return { ok: false, code: undefined, error: describeFetchError(err) };
    }
  }

  private async prune(): Promise<void> {
    const now = this.clock();
    if (now - this.lastPrune < 3_600_000) return;
    this.lastPrune = now;
    const before = new Date(now - (this.o.retentionMs ?? 30 * 86_400_000));
    await this.o.store.db
      .delete(webhookDeliveries)
      .where(and(ne(webhookDeliveries.status, 'pending'), lt(webhookDeliveries.createdAt, before)));
  }

  private async reload(): Promise<void> {
    const rows = await this.o.store.db.select().from(webhooks);
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.id);
      const cached = this.cache.get(row.id);
      let secret = cached?.row.secretEnc === row.secretEnc ? cached.secret : undefined;
      try {
        secret ??= this.o.secrets.open(row.secretEnc);
      } catch (err) {
        this.o.logger?.error({ err, webhook: row.id }, 'webhook secret unreadable (server key changed?); skipped');
        continue;
      }
      this.cache.set(row.id, { row, secret });
    }
    for (const id of this.cache.keys()) if (!seen.has(id)) this.cache.delete(id);
  }

  private scheduleReload(): void {
    if (this.closed) return;
    this.cancelReload = this.schedule(() => {
      this.reload()
        .catch((err: unknown) => this.o.logger?.warn({ err }, 'could not reload webhooks'))
        .finally(() => this.scheduleReload());
    }, this.o.reloadIntervalMs ?? 30_000);
  }

  private logDrop(webhookId: string, type: string): void {
    const now = this.clock();
    if (now - this.lastDropLog < 10_000) return;
    this.lastDropLog = now;
    this.o.logger?.warn({ webhook: webhookId, type, max: this.maxPending }, 'webhook queue full; events dropped');
  }

  /** The domain a listing covers: the owner's own, or (superadmin) the one asked for or all. */
  private scopeOf(p: Principal, domainId: string | undefined): string | undefined {
    if (p.role === 'superadmin') return domainId;
    if (p.domainId === undefined) throw DirectoryError.forbidden();
    directoryRights.requireOwner(p, p.domainId);
    if (domainId !== undefined && domainId !== p.domainId) throw DirectoryError.notFound('domain');
    return p.domainId;
  }

  /** The domain a new webhook belongs to. */
  private async targetDomain(
    p: Principal,
    domainId: string | undefined,
  ): Promise<{ domainId: string; domain: string }> {
    if (p.role === 'superadmin') {
      if (domainId === undefined) throw DirectoryError.validation({ domainId: 'required for a superadmin' });
      const d = await this.o.domains.get(p, domainId);
      return { domainId: d.id, domain: d.domain.toLowerCase() };
    }
    if (p.domainId === undefined || p.domain === undefined) throw DirectoryError.forbidden();
    directoryRights.requireOwner(p, p.domainId);
    if (domainId !== undefined && domainId !== p.domainId) throw DirectoryError.notFound('domain');
    return { domainId: p.domainId, domain: p.domain.toLowerCase() };
  }

  /** A webhook the principal may manage; another tenant's is "not found", never "forbidden". */
  private async load(p: Principal, id: string): Promise<Row> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
      throw DirectoryError.notFound('webhook');
    const [row] = await this.o.store.db.select().from(webhooks).where(eq(webhooks.id, id));
    if (!row || !directoryRights.inDomain(p, row.domainId)) throw DirectoryError.notFound('webhook');
    directoryRights.requireOwner(p, row.domainId);
    return row;
  }
}

function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

function toWebhook(r: Row): Webhook {
  return {
    id: r.id,
    domainId: r.domainId,
    domain: r.domain,
    url: r.url,
    events: r.events,
    description: r.description ?? undefined,
    active: r.active,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

function toDelivery(r: typeof webhookDeliveries.$inferSelect): WebhookDelivery {
  return {
    id: r.id,
    eventType: r.eventType,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.nextAttemptAt ?? undefined,
    lastAttemptAt: r.lastAttemptAt ?? undefined,
    lastError: r.lastError ?? undefined,
    responseCode: r.responseCode ?? undefined,
    createdAt: r.createdAt,
    deliveredAt: r.deliveredAt ?? undefined,
    body: r.body,
  };
}

/** A short reason for the log: the socket error code where fetch hides it in `cause`. */
function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === 'TimeoutError') return 'timed out';
  if (err.name === 'AbortError') return 'aborted at shutdown';
  const cause = err.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? err.message;
}
