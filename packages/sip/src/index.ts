/** @handset/sip: the SIP protocol library. Pure protocol code; transports come in through Transport. */
export * from './sip-error.js';
export * from './grammar.js';
export * from './header-names.js';
export * from './sip-uri.js';
export * from './name-addr.js';
export * from './via.js';
export * from './message.js';
export * from './parser.js';
export * from './serializer.js';
export * from './own-copy.js';
export * from './reason-phrases.js';
export * from './create-response.js';
export * from './transport.js';
export * from './stream-framer.js';
export * from './digest/index.js';
export * from './transaction/index.js';
export * from './endpoint/index.js';
