/** @handset/sip-node: Node socket transports (UDP, TCP, TLS, WS, WSS) implementing @handset/sip's Transport. */
export * from './transport-options.js';
export * from './udp-transport.js';
export * from './tcp-transport.js';
export * from './tls-transport.js';
export * from './tls-policy.js';
export * from './ws-transport.js';
export * from './stream-transport.js';
export * from './stream-connection.js';
export * from './ws-connection.js';
export * from './connection-limiter.js';
export * from './ip-address.js';
export * from './keep-alive.js';
export * from './udp-io-thread.js';
