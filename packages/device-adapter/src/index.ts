/** @handset/device-adapter: the protocol, its crypto, and clients for adapter authors. */
export * from './adapter-protocol.js';
export * from './adapter-crypto.js';
export * from './password-store.js';
export * from './provider-client.js';
export * from './reconnect-policy.js';
export { endpointUrl, type SocketOptions } from './reconnecting-socket.js';
export * from './sysclient-client.js';
export { TypedEmitter } from './typed-emitter.js';
