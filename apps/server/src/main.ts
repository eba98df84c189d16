/**
 * Composition root: wires config, store, directory, SIP stack, registrar, proxy and HTTP
 * into one running server. Default wiring happens here and nowhere else.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { resolveSrv } from 'node:dns/promises';
import { fileURLToPath } from 'node:url';
import { DigestAuthenticator, SipEndpoint, type SendTarget, type Transport } from '@handset/sip';
import {
  TcpTransport,
  TLS_POLICY,
  TlsTransport,
  UdpTransport,
  WsTransport,
  type TransportLimits,
} from '@handset/sip-node';
import type { Server as TlsServer } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { ApiAuthenticator } from './api/api-auth.js';
import { registerApi } from './api/api-v1.js';
import { registerWebphoneRoutes, registerWebphoneStatic } from './api/webphone-routes.js';
import { registerConsoleStatic } from './api/console-static.js';
import { defineWebphoneSettings } from './api/webphone-settings.js';
import { WebphoneAccountService } from './webphone/webphone-account-service.js';
import { createAgentTools } from './agent/agent-tools.js';
import { availableMembersOnly, WebphoneUserStateService } from './webphone/webphone-user-state-service.js';
import { registerIceServersRoute } from './api/ice-servers-route.js';
import { EventStream, eventStreamDirectory } from './api/events-route.js';
import { registerWebhookRoutes } from './api/webhooks-routes.js';
import { buildHttpApp } from './api/http-app.js';
import { registerAdminRoute } from './cli/admin-route.js';
import { registerProvisioningRoutes } from './api/provisioning-routes.js';
import { createProvisioning, publicUrlOf } from './provisioning/provisioning-wiring.js';
import { registerDeskPhoneRoutes } from './api/desk-phone-routes.js';
import { createDeskPhones } from './provisioning/desk/desk-wiring.js';
import { defineDeskSettings } from './provisioning/desk/desk-settings.js';
import {
  RegistryProvisioningSettings,
  defineSessionTalkSettings,
} from './provisioning/registry-provisioning-settings.js';
import { removeRunFile, writeRunFile } from './cli/run-file.js';
import { SecretBox } from './config/secret-box.js';
import { loadSecretKey } from './config/secret-key.js';
import { udpIoNativeWanted, udpIoThreadWanted } from './config/runtime-tuning.js';
import { reachableInterfaceAddresses, WILDCARD_ADDRESSES } from './config/public-host.js';
import type { ServerConfig } from './config/server-config.js';
import { loadTlsMaterial, type TlsMaterial } from './config/tls-material.js';
import { TurnCredentials } from './config/turn-credentials.js';
import { DirectoryService } from './directory/directory-service.js';
import { createDirectoryServices, type DirectoryServices } from './directory/directory-services.js';
import type { Mailer } from './directory/user-service.js';
import { CLI_PRINCIPAL, type Principal } from './directory/principal.js';
import { ServerMetrics } from './metrics/server-metrics.js';
import { BranchSigner } from './proxy/branch-signer.js';
import { CallTracker } from './proxy/call-tracker.js';
import { CdrRepository } from './proxy/cdr-repository.js';
import { FlowTokenCodec } from './proxy/flow-token.js';
import { LocalIdentity } from './proxy/local-identity.js';
import { ProxyCore } from './proxy/proxy-core.js';
import { AccountSlowdown } from './registrar/account-guard.js';
import { AuthFailureLimiter } from './registrar/auth-failure-limiter.js';
import { BindingRepository } from './registrar/binding-repository.js';
import { LocationService } from './registrar/location-service.js';
import { Registrar } from './registrar/registrar.js';
import { SipAuthentication } from './registrar/sip-authentication.js';
import { SubscriberCache } from './registrar/subscriber-directory.js';
import { defineSipSettings, SipDomainPolicies } from './sip/sip-domain-policy.js';
import { SipService } from './sip/sip-service.js';
import { CallEventsAdapter } from './events/call-events-adapter.js';
import { bridgeDirectoryEvents } from './events/directory-events-adapter.js';
import { EventBus } from './events/event-bus.js';
import { bridgeLocationEvents } from './events/location-events-adapter.js';
import { WebhookService } from './notify/webhook-service.js';
import { openStore } from './store/open-store.js';
import type { MediaPlane } from './media/media-plane.js';
import { startMediaPlane } from './media/media-wiring.js';
import { AdapterGateway, AdapterSourceLimits } from './adapters/adapter-gateway.js';
import { provisionDeviceThroughAdapter, registerAdapterRoutes } from './adapters/adapter-routes.js';
import { createAdapters } from './adapters/adapter-wiring.js';
import { PROVIDER_PATH, SYSCLIENT_PATH } from '@handset/device-adapter';
import type { ClusterNode } from './cluster/cluster-node.js';
import { nodeIdentity } from './cluster/node-identity.js';
import type { SharedLocation } from './cluster/shared-location.js';

/** A running Handset. */
export interface HandsetServer {
  readonly directory: DirectoryService;
  /** The principal-checked directory services behind /api/v1 and /client-api. */
  readonly services: DirectoryServices;
  readonly location: LocationService;
  readonly calls: CallTracker;
  readonly httpPort: number;
  readonly httpsPort: number | undefined;
  /** Bound SIP ports by protocol. */
  readonly sipPorts: Readonly<Partial<Record<'udp' | 'tcp' | 'tls' | 'ws' | 'wss', number>>>;
  readonly logger: Logger;
  /** The media plane (rtpengine anchoring). */
  readonly media: MediaPlane;
  /** This node in its cluster (REDIS_URL), else undefined. */
  readonly cluster: ClusterNode | undefined;
  /**
   * Reads the TLS certificate and key again and presents them to new SIP/TLS, HTTPS and WSS
   * connections (what SIGHUP does). False when TLS is off or the new pair is unusable (logged; the
   * old pair stays in use).
   */
  reloadTls(): Promise<boolean>;
  /** Stops listening, ends calls, writes what is pending, closes the store. Idempotent. */
  close(): Promise<void>;
}

/** Options that tests and the CLI pass beside the config. */
export interface StartOptions {
  logger?: Logger;
  /** Write <dataDir>/handset.run.json so the CLI can reach this process (default true). */
  runFile?: boolean;
  /** Sends password-reset mail (none: resets answer 409 "mail is not configured"). */
  mailer?: Mailer | undefined;
}

/** Starts every part of Handset and resolves when it listens. */
export async function startHandset(config: ServerConfig, opts: StartOptions = {}): Promise<HandsetServer> {
  const logger = opts.logger ?? pino({ level: config.logLevel, base: { service: 'handset' } });
  const cleanups: Array<() => Promise<void> | void> = [];
  const closeAll = async () => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        logger.error({ err }, 'error while stopping');
      }
    }
    cleanups.length = 0;
  };

  try {
    // rtpengine (external, a private one, or none) starts beside the rest; calls that need it and find
    // none get 488. Its cleanup comes first so it runs last, after the calls it carries were ended.
    const mediaStarting = startMediaPlane(config.media, { bind: config.bind, publicHost: config.publicHost }, logger);
    cleanups.push(async () => (await mediaStarting).close());
    const key = await loadSecretKey(config);
    const store = await openStore(config, { logger });
    cleanups.push(() => store.close());
    const secrets = new SecretBox(key);
    const directory = new DirectoryService(store, secrets);
    await directory.verifySecretKey();
    // nodemailer is loaded only when mail is configured (an idle server without SMTP does not hold it).
    const smtp = config.mail.smtpUrl
      ? (await import('./notify/mailer.js')).createSmtpMailer(config.mail.smtpUrl, { from: config.mail.from, logger })
      : undefined;
    if (smtp) cleanups.push(() => smtp.close());
    const services = createDirectoryServices(store, secrets, { mailer: opts.mailer ?? smtp });
    // Platform events (registrations, calls, CDRs, directory changes) for /api/v1/events and webhooks.
    // ioredis is loaded only for a cluster: loading it turns String.prototype into a dictionary-mode
    // object in V8 (its `class VerbatimString extends String`), and every string method call in the
    // SIP parser then goes through a generic property load (see docs/benchmarks.md, 2026-12-03).
    const prefix = config.cluster.redisPrefix;
    const relay = config.redisUrl
      ? await (
          await import('./events/redis-event-relay.js')
        ).RedisEventRelay.connect({ url: config.redisUrl, logger, channel: `${prefix}events` })
      : undefined;
    // A cluster node: identity, membership and the shared location over Redis (cluster/).
    const cluster = config.redisUrl
      ? await (
          await import('./cluster/cluster-node.js')
        ).ClusterNode.connect({
          url: config.redisUrl,
          prefix,
          identity: await nodeIdentity(config.dataDir, config.cluster.nodeId),
          heartbeatMs: config.cluster.heartbeatMs,
          logger,
        })
      : undefined;
    if (cluster) cleanups.push(() => cluster.close());
    const bus = new EventBus({ logger, relay });
    cleanups.push(() => bus.close());
    bridgeDirectoryEvents((l) => services.events.on('change', l), bus);
    const webhooks = new WebhookService({ store, secrets, domains: services.domains, logger });
    await webhooks.start();
    cleanups.push(() => webhooks.close());
    // Local events only: in a cluster every node's bus sees every event, but one node delivers it.
    bus.subscribeLocal(
      (e) => webhooks.handle(e),
      (type) => webhooks.wants(type),
    );
    const apiRoutes = [(v1: FastifyInstance) => registerWebhookRoutes(v1, { webhooks })];
    // The web phone's sign-in configuration, with TURN credentials as /api/v1/webrtc/ice-servers issues them.
    const webphoneTurn = new TurnCredentials(config.ice);
    const webphoneBuild = { version: HANDSET_VERSION, deployId: randomBytes(4).toString('hex') };
    const webphoneAccount = new WebphoneAccountService({ store, secrets, services });
    const webphoneState = new WebphoneUserStateService(store, services.audit);
    apiRoutes.push((v1: FastifyInstance) =>
      registerWebphoneRoutes(v1, {
        services,
        iceServersFor: (u) => webphoneTurn.iceServersFor(u),
        build: webphoneBuild,
        account: webphoneAccount,
        userState: webphoneState,
      }),
    );
    // Agent tools: campaigns and the preview dialer (agent status from the web phone's).
    const agentTools = createAgentTools({ store, services, status: webphoneState, logger });
    cleanups.push(() => agentTools.close());
    apiRoutes.push((v1: FastifyInstance) => agentTools.routes(v1));
    const subscribers = new SubscriberCache(directory, { algorithms: config.auth.digestAlgorithms, logger });
    await subscribers.start();
    cleanups.push(() => subscribers.close());
    directory.onChange((domain?: string) => void subscribers.reload(domain));
    services.events.on('change', (c) => void subscribers.reload(c.domain));
    if (cluster) {
      // Every node's caches follow a change made through any node, within a Redis round trip.
      directory.onChange((domain?: string) => cluster.invalidate(domain));
      services.events.on('change', (c) => cluster.invalidate(c.domain));
      cluster.onInvalidate((domain) => void subscribers.reload(domain));
    }
    const apiAuth = new ApiAuthenticator({ tokens: services.tokens, sessions: services.sessions });
    // Softphone provisioning: sessiontalk.* settings in the shared registry, codes keyed off the server key.
    defineSessionTalkSettings(services.settingsRegistry, { sipTls: config.tls !== undefined });
    defineWebphoneSettings(services.settingsRegistry);
    defineSipSettings(services.settingsRegistry);
    const provisioning = createProvisioning({
      store,
      directory,
      serverKey: key,
      settings: new RegistryProvisioningSettings(services.settings, logger),
      audit: services.audit,
      logger,
      publicUrl: publicUrlOf(config),
      // Port 0 (tests) is known only after listening; then no SRV advice is given.
      ...(config.sipPort === 0
        ? {}
        : { sipPorts: { udp: config.sipPort, tcp: config.sipPort, tls: config.sipTlsPort }, resolveSrv }),
    });
    // Desk phones by MAC: provisioning.* settings, phones and their files held in memory.
    defineDeskSettings(services.settingsRegistry);
    const desk = createDeskPhones({
      store,
      directory: provisioning.directory,
      settingsService: services.settings,
      audit: services.audit,
      logger,
      publicUrl: publicUrlOf(config),
      serverKey: key,
    });
    await desk.start();
    cleanups.push(() => desk.close());
    services.events.on('change', (c) => void desk.service.directoryChanged(c));
    directory.onChange((domain?: string) => desk.service.domainRenamedOrReloaded(domain));
    const deskRoutes = {
      files: desk.files,
      service: desk.service,
      authenticate: apiAuth.preHandler,
      logger,
      rateLimit: { max: config.provisioning.rateLimitPerMinute, timeWindowMs: 60_000 },
      adapterProvision: (p: Principal, body: unknown) => provisionDeviceThroughAdapter(adapters, p, body),
    };
    const provisioningRoutes = {
      provisioning: provisioning.service,
      codes: provisioning.codes,
      devices: provisioning.devices,
      settings: provisioning.settings,
      directory: provisioning.directory,
      authenticate: apiAuth.preHandler,
      publicUrl: publicUrlOf(config),
      logger,
      // HANDSET_PROVISION_RATE_LIMIT; 0 = off.
      rateLimit: { max: config.provisioning.rateLimitPerMinute, timeWindowMs: 60_000 },
    };
    const cdrs = new CdrRepository(store);
    // Device adapters (docs/device-adapters.md): provisioning providers for third-party phones.
    let boundSipPorts: Partial<Record<'udp' | 'tcp' | 'tls', number>> = {};
    const adapters = createAdapters({
      store,
      secrets,
      directory,
      services,
      turn: webphoneTurn,
      publicHost: config.publicHost,
      sipPorts: () => boundSipPorts,
      logger,
    });
    cleanups.push(() => adapters.close());
    apiRoutes.push((v1: FastifyInstance) => registerAdapterRoutes(v1, { adapters }));

    // One node: in memory, written behind to the store. A cluster: the shared record in Redis
    // decides, and this is the node's copy of it (not persisted: a restarted node reads Redis).
    const location = cluster
      ? new LocationService({ logger, run: cluster.identity.run, expireVia: (b) => cluster.expireBinding(b) })
      : new LocationService({ persistence: new BindingRepository(store), logger });
    await location.start();
    cleanups.push(() => location.close());
    const shared: SharedLocation | undefined = cluster ? await cluster.shareLocation(location) : undefined;
    bridgeLocationEvents(location, bus);

    const media = await mediaStarting;

    const callEvents = new CallEventsAdapter(bus);
    const calls = new CallTracker({
      // In a cluster each CDR says which node handled the call.
      sink: callEvents.wrapSink(
        cluster ? { insert: (cdr) => cdrs.insert({ ...cdr, node: cluster.identity.id }) } : cdrs,
      ),
      logger,
      dialogTimeoutMs: config.proxy.dialogTimeoutS * 1000,
    });
    cleanups.push(() => calls.close());
    callEvents.bridge(calls);

    // SIP stack: endpoint (parse, transactions) over the transports.
    let metrics: ServerMetrics | undefined = undefined;
    const endpoint = new SipEndpoint({
      logger,
      trace: config.sipTrace
        ? (direction, data, flow) =>
            logger.info(
              { sip: direction, flow: flow.id, remote: `${flow.remote.address}:${flow.remote.port}` },
              data.toString(),
            )
        : undefined,
      onParseError: (err, _data, flow) => {
        metrics?.parseErrors.inc({ transport: flow.protocol });
        logger.debug({ err: err.message, flow: flow.id }, 'malformed SIP message');
      },
    });
    cleanups.push(() => endpoint.close());
    const limits: Partial<TransportLimits> = {
      maxConnectionsPerIp: config.transport.maxConnectionsPerIp,
      maxMessageSize: config.transport.maxMessageSize,
      idleTimeoutMs: config.transport.idleTimeoutS * 1000,
    };
    const transports: Transport[] = [];
    const add = <T extends Transport>(t: T): T => {
      transports.push(t);
      endpoint.addTransport(t);
      cleanups.push(() => t.close());
      return t;
    };
    const host = config.bind;
    const ioThread = udpIoThreadWanted(config.transport.udpIoThread);
    const ioNative = udpIoNativeWanted(config.transport.udpIoThread);
    const udp = add(
      await UdpTransport.listen({ host, port: config.sipPort, delegate: endpoint, logger, limits, ioThread, ioNative }),
    );
    logger.info({ udpIo: udp.ioKind }, 'SIP UDP socket served');
    const tcp = add(await TcpTransport.listen({ host, port: config.sipPort, delegate: endpoint, logger, limits }));
    const tlsMaterial = config.tls ? await loadTlsMaterial(config) : undefined;
    const tls = tlsMaterial
      ? add(
          await TlsTransport.listen({
            host,
            port: config.sipTlsPort,
            delegate: endpoint,
            logger,
            limits,
            cert: tlsMaterial.cert,
            key: tlsMaterial.key,
            rejectUnauthorized: false,
          }),
        )
      : undefined;

    const service = new SipService(
      {
        sendStateless: (msg, target) => {
          endpoint
            .sendStateless(msg, target)
            .catch((err: unknown) => logger.debug({ err, target }, 'stateless send failed'));
        },
        isFlowOpen: (target) => endpoint.isFlowOpen(target),
      },
      logger,
    );
    endpoint.user = {
      onRequest: (t) => service.onRequest(t),
      onAck: (a, f) => service.onAck(a, f),
      onStrayResponse: (r) => service.onStrayResponse(r),
      onFlowClosed: (flow) => {
        // A WebSocket (or outbound) client cannot be dialled back: its bindings go with the flow.
        for (const b of location.bindingsOnFlow(flow.id)) {
          if (
            flow.protocol === 'ws' ||
            flow.protocol === 'wss' ||
            b.regId !== undefined ||
            b.contactUri.includes('.invalid')
          ) {
            if (shared === undefined) location.remove(b);
            else
              shared
                .remove(b, { mode: 'exact' })
                .catch((err: unknown) => logger.warn({ err, aor: b.aor }, 'could not remove a binding'));
          }
        }
      },
    };

    // HTTP(S) with SIP over WebSocket at /sip (RFC 7118).
    const health = {
      health: () => ({
        version: HANDSET_VERSION,
        uptimeS: Math.round(process.uptime()),
        database: store.kind,
        registrations: location.size,
        activeCalls: calls.active,
        sip: sipPorts,
        media: { anchor: config.media.anchor, rtpengine: media.source, available: media.plane.available },
        ...(cluster
          ? {
              node: cluster.identity.id,
              run: cluster.identity.run,
              cluster: cluster.members().map((m) => ({
                id: m.id,
                alive: m.alive,
                self: m.id === cluster.identity.id,
                host: m.host,
                sip: m.sip,
                http: m.http,
                lastSeen: new Date(m.lastSeen).toISOString(),
              })),
            }
          : {}),
      }),
    };
    metrics = new ServerMetrics({
      bindings: () => location.size,
      transactions: () => endpoint.layer.serverCount + endpoint.layer.clientCount,
      activeCalls: () => calls.active,
      udpQueueDrops: () => udp.queueDrops,
      ...(cluster ? { node: cluster.identity.id, clusterMembers: () => cluster.members() } : {}),
    });
    const m = metrics;
    for (const e of ['registered', 'refreshed', 'unregistered', 'expired'] as const) {
      // One child per label value, made once: a labelled inc() hashes its labels on every REGISTER.
      const counter = m.registrationEvents.labels({ event: e });
      location.on(e, () => counter.inc());
    }
    calls.on('ended', (cdr) => m.calls.inc({ disposition: cdr.disposition }));

    const adminToken = randomBytes(24).toString('base64url');
    const http = buildHttpApp({ logger, metrics, health, metricsAccess: config.metrics });
    registerAdminRoute(http, { token: adminToken, directory, cdrs, activations: provisioning.codes, services, desk });
    await registerProvisioningRoutes(http, provisioningRoutes);
    await registerDeskPhoneRoutes(http, deskRoutes);
    await registerApi(http, { services, auth: apiAuth, logger, routes: apiRoutes });
    const iceServers = {
      authenticate: (t: string) => apiAuth.authenticateToken(t),
      credentials: new TurnCredentials(config.ice),
    };
    registerIceServersRoute(http, iceServers);
    await registerWebphoneStatic(http, { root: WEBPHONE_DIST });
    await registerConsoleStatic(http, { root: CONSOLE_DIST });
    await http.listen({ host, port: config.httpPort });
    cleanups.push(() => http.close());
    // Attached after the HTTP close is registered, so it closes first (cleanups run in reverse)
    // and upgraded sockets do not hold the HTTP server open.
    add(WsTransport.attach({ server: http.server, path: '/sip', delegate: endpoint, logger, limits }));
    const streamOptions = {
      bus,
      auth: apiAuth,
      logger,
      otherPaths: ['/sip', PROVIDER_PATH, SYSCLIENT_PATH],
      ...eventStreamDirectory(services),
    };
    // One set of per-source limits for the HTTP and the HTTPS port.
    const adapterOptions = { service: adapters, auth: apiAuth, logger, limits: new AdapterSourceLimits() };
    const adapterGateway = AdapterGateway.attach({ server: http.server, ...adapterOptions });
    cleanups.push(() => adapterGateway.close());
    const eventStream = EventStream.attach({ server: http.server, ...streamOptions });
    cleanups.push(() => eventStream.close());
    const httpPort = (http.server.address() as { port: number }).port;

    let httpsPort: number | undefined;
    let wss: Transport | undefined;
    /** Presents a renewed pair to new connections of every TLS listener. */
    const certificateUsers: Array<(m: TlsMaterial) => void> = [];
    if (tls) certificateUsers.push((m) => tls.setCertificate(m.cert, m.key));
    if (tlsMaterial) {
      const https = buildHttpApp({ logger, metrics, health, https: tlsMaterial, metricsAccess: config.metrics });
      registerAdminRoute(https, {
        token: adminToken,
        directory,
        cdrs,
        activations: provisioning.codes,
        services,
        desk,
      });
      await registerProvisioningRoutes(https, provisioningRoutes);
      await registerDeskPhoneRoutes(https, deskRoutes);
      await registerApi(https, { services, auth: apiAuth, logger, routes: apiRoutes });
      registerIceServersRoute(https, iceServers);
      await registerWebphoneStatic(https, { root: WEBPHONE_DIST });
      await registerConsoleStatic(https, { root: CONSOLE_DIST });
      await https.listen({ host, port: config.httpsPort });
      cleanups.push(() => https.close());
      const httpsServer = https.server as unknown as TlsServer;
      certificateUsers.push((m) => httpsServer.setSecureContext({ ...TLS_POLICY, cert: m.cert, key: m.key }));
      wss = add(WsTransport.attach({ server: https.server, path: '/sip', delegate: endpoint, logger, limits }));
      const secureStream = EventStream.attach({ server: https.server, ...streamOptions });
      cleanups.push(() => secureStream.close());
      const secureAdapters = AdapterGateway.attach({ server: https.server, ...adapterOptions });
      cleanups.push(() => secureAdapters.close());
      httpsPort = (https.server.address() as { port: number }).port;
    }

    const sipPorts = {
      udp: udp.local.port,
      tcp: tcp.local.port,
      ...(tls ? { tls: tls.local.port } : {}),
      ws: httpPort,
      ...(wss && httpsPort !== undefined ? { wss: httpsPort } : {}),
    };
    boundSipPorts = { udp: udp.local.port, tcp: tcp.local.port, ...(tls ? { tls: tls.local.port } : {}) };
    const identity = new LocalIdentity(
      config.publicHost,
      // Bound to every interface, each address of the host means us (a phone may use any of them).
      [config.bind, '127.0.0.1', '::1', 'localhost', ...reachableInterfaceAddresses()].filter(
        (h) => !WILDCARD_ADDRESSES.has(h),
      ),
      Object.entries(sipPorts).map(([protocol, port]) => ({ protocol: protocol as SendTarget['protocol'], port })),
    );

    const authenticator = new DigestAuthenticator({
      key,
      nonceTtlMs: config.auth.nonceTtlS * 1000,
      algorithms: config.auth.digestAlgorithms,
    });
    const limiterOptions = {
      maxFailures: config.auth.maxFailures,
      windowMs: config.auth.windowS * 1000,
      blockMs: config.auth.blockS * 1000,
      clock: Date.now,
    };
    // In a cluster the failures are counted across the nodes (N nodes do not allow N times the attempts).
    const limiter = cluster ? await cluster.sharedLimiter(limiterOptions) : new AuthFailureLimiter(limiterOptions);
    // Cluster Path entries (RFC 3327) carry flow tokens of their own key: never shown to a phone.
    const pathTokens = cluster
      ? new FlowTokenCodec(createHmac('sha256', key).update('handset cluster path tokens').digest())
      : undefined;
    if (shared && pathTokens) {
      const via = `${identity.sentBy('tcp')};transport=tcp;lr`;
      shared.pathFor = (b) =>
        `<sip:${pathTokens.encode({ protocol: b.transport, address: b.sourceAddress, port: b.sourcePort, flowId: b.flowId })}@${via}>`;
    }
    const sipPolicies = new SipDomainPolicies({
      source: async (domain) => {
        const id = await services.domains.idOf(CLI_PRINCIPAL, domain);
        const [requireQop, tlsOnly] = await Promise.all([
          services.settings.get<boolean>('sip.require_qop', id),
          services.settings.get<boolean>('sip.tls_only', id),
        ]);
        return { requireQop, tlsOnly };
      },
      logger,
    });
    const sipAuth = new SipAuthentication({
      authenticator,
      directory: subscribers,
      limiter,
      accounts: new AccountSlowdown(),
      policies: sipPolicies,
      metrics: { authFailure: (reason: string) => m.authFailures.inc({ reason }) },
      logger,
    });
    const registrar = new Registrar({
      location,
      shared,
      directory: subscribers,
      auth: sipAuth,
      policy: config.registrar,
      setFlowRegistered: (flow, registered) => {
        for (const t of transports)
          if (t.protocol === flow.protocol && t.getFlow(flow.id)) t.setFlowRegistered(flow.id, registered);
      },
      logger,
    });
    const proxy = new ProxyCore({
      layer: service,
      location,
      directory: subscribers,
      auth: sipAuth,
      identity,
      flowTokens: new FlowTokenCodec(key),
      branches: new BranchSigner(key),
      calls,
      ringTimeoutMs: config.proxy.ringTimeoutS * 1000,
      // Agents away, in wrap-up or on do-not-disturb are not rung for group calls.
      groups: availableMembersOnly(services.groups, webphoneState),
      metrics: { responseDropped: (reason) => m.responsesDropped.inc({ reason }) },
      media: media.plane,
      logger,
      pathTokens,
      reachable: cluster ? (b) => cluster.reachable(b) : undefined,
    });
    service.bind({ layer: endpoint.layer, registrar, proxy });
    // check-sync NOTIFYs go out through the endpoint; files name the bound SIP ports.
    desk.notifier.attach({
      lookup: (aor) => location.lookup(aor),
      sendRequest: (req, target, handler) => void endpoint.sendRequest(req, target, handler),
      sentBy: (protocol) => identity.sentBy(protocol),
    });
    desk.files.attachSip({
      host: config.publicHost,
      ports: { udp: udp.local.port, tcp: tcp.local.port, ...(tls ? { tls: tls.local.port } : {}) },
    });

    await cluster?.join({
      host: config.publicHost,
      sip: sipPorts,
      http: httpPort,
      version: HANDSET_VERSION,
      startedAt: new Date().toISOString(),
    });

    if (opts.runFile !== false) {
      await writeRunFile(config.dataDir, { pid: process.pid, httpPort, adminToken });
      cleanups.push(() => removeRunFile(config.dataDir));
    }
    logger.info(
      { sip: sipPorts, http: httpPort, https: httpsPort, database: store.kind, publicHost: config.publicHost },
      'Handset is running',
    );
    if (config.publicHostIsDefault)
      logger.info(
        { publicHost: config.publicHost, source: config.publicHostSource },
        'HANDSET_PUBLIC_HOST is not set; advertising the detected address',
      );

    const reloadTls = async (): Promise<boolean> => {
      if (!config.tls) return false;
      try {
        const material = await loadTlsMaterial(config);
        if (!material) return false;
        for (const use of certificateUsers) use(material);
        logger.info({ cert: config.tls.certPath }, 'TLS certificate reloaded');
        return true;
      } catch (err) {
        logger.error(
          { err, cert: config.tls.certPath },
          'TLS certificate reload failed; the previous one stays in use',
        );
        return false;
      }
    };
    // SIGHUP: reload the certificate (e.g. after certbot renewed it), as nginx and Kamailio's tls module do.
    const onHangup = () => void reloadTls();
    if (config.tls) {
      process.on('SIGHUP', onHangup);
      cleanups.push(() => void process.off('SIGHUP', onHangup));
    }

    let closing: Promise<void> | undefined;
    return {
      directory,
      services,
      location,
      calls,
      media: media.plane,
      httpPort,
      httpsPort,
      sipPorts,
      logger,
      cluster,
      reloadTls,
      close: () => (closing ??= closeAll()),
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/** The version reported by /healthz. */
export const HANDSET_VERSION = '0.1.0';

/** The built web phone (apps/webphone/dist), served at `/` when present. */
const WEBPHONE_DIST = fileURLToPath(new URL('../../webphone/dist', import.meta.url));
/** The built device console (apps/console/dist), served at `/console/` when present. */
const CONSOLE_DIST = fileURLToPath(new URL('../../console/dist', import.meta.url));
