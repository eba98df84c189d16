/** The SIP endpoint: transports in, transaction layer, messages out (RFC 3261 §18, RFC 3581). */
export * from './endpoint-user.js';
export * from './sip-endpoint-options.js';
export * from './sip-endpoint.js';
export * from './stamp-received.js';
export * from './malformed-request-response.js';
