/** Prometheus metrics of the server (GET /metrics), on a registry of its own (no global state). */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** Live values read at scrape time. */
export interface MetricsSources {
  bindings(): number;
  transactions(): number;
  activeCalls(): number;
  connections?(): number;
  /** Datagrams lost between the UDP I/O thread and the SIP thread because a queue was full (running totals). */
  udpQueueDrops?(): { received: number; sent: number };
  /** Cluster: this node's id. */
  node?: string;
  /** Cluster: the members known, alive or not. */
  clusterMembers?(): ReadonlyArray<{ id: string; alive: boolean }>;
}

/** The server's metrics. */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly sipMessages: Counter<'direction' | 'kind'>;
  readonly parseErrors: Counter<'transport'>;
  readonly authFailures: Counter<'reason'>;
  readonly responsesDropped: Counter<'reason'>;
  readonly registrationEvents: Counter<'event'>;
  readonly calls: Counter<'disposition'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    // prom-client's names already start with process_ or nodejs_: handset_process_cpu_seconds_total.
    collectDefaultMetrics({ register: this.registry, prefix: 'handset_' });
    this.sipMessages = new Counter({
      name: 'handset_sip_messages_total',
      help: 'SIP messages by direction (in/out) and kind (request/response)',
      labelNames: ['direction', 'kind'],
      registers,
    });
    this.parseErrors = new Counter({
      name: 'handset_sip_parse_errors_total',
      help: 'Malformed SIP messages received',
      labelNames: ['transport'],
      registers,
    });
    this.authFailures = new Counter({
      name: 'handset_sip_auth_failures_total',
      help: 'Failed digest authentications by reason',
      labelNames: ['reason'],
      registers,
    });
    this.responsesDropped = new Counter({
      name: 'handset_sip_responses_dropped_total',
      help: 'Responses matching no client transaction and no branch Handset signed, dropped (not relayed)',
      labelNames: ['reason'],
      registers,
    });
    this.registrationEvents = new Counter({
      name: 'handset_registration_events_total',
      help: 'Binding changes: registered, refreshed, unregistered, expired',
      labelNames: ['event'],
      registers,
    });
    this.calls = new Counter({
      name: 'handset_calls_total',
      help: 'Finished call attempts by disposition',
      labelNames: ['disposition'],
      registers,
    });
    new Gauge({
      name: 'handset_registrations',
      help: 'Live bindings in the location service',
      registers,
      collect() {
        this.set(sources.bindings());
      },
    });
    new Gauge({
      name: 'handset_sip_transactions',
      help: 'SIP transactions in progress',
      registers,
      collect() {
        this.set(sources.transactions());
      },
    });
    new Gauge({
      name: 'handset_calls_active',
      help: 'Calls being set up or in progress',
      registers,
      collect() {
        this.set(sources.activeCalls());
      },
    });
    let reported = { received: 0, sent: 0 };
    new Counter({
      name: 'handset_sip_udp_queue_drops_total',
      help: 'UDP datagrams lost because the queue between the UDP I/O thread and the SIP thread was full, by direction (received: the SIP thread was behind; sent: the I/O thread was)',
      labelNames: ['direction'],
      registers,
      collect() {
        const now = sources.udpQueueDrops?.() ?? reported;
        this.inc({ direction: 'received' }, now.received - reported.received);
        this.inc({ direction: 'sent' }, now.sent - reported.sent);
        reported = now;
      },
    });
    this.clusterGauges(sources, registers);
  }

  /** Cluster gauges: `handset_node_info{node}` and `handset_cluster_member_up{node}` (1 alive, 0 down). */
  private clusterGauges(sources: MetricsSources, registers: Registry[]): void {
    const node = sources.node;
    const members = sources.clusterMembers;
    if (node === undefined || members === undefined) return;
    new Gauge({
      name: 'handset_node_info',
      help: 'This node of the cluster (HANDSET_NODE_ID), always 1',
      labelNames: ['node'],
      registers,
    }).set({ node }, 1);
    new Gauge({
      name: 'handset_cluster_member_up',
      help: 'Cluster members this node knows: 1 while its heartbeat is seen, 0 once lost',
      labelNames: ['node'],
      registers,
      collect() {
        this.reset();
        for (const m of members()) this.set({ node: m.id }, m.alive ? 1 : 0);
      },
    });
  }

  /** The exposition text for GET /metrics. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
