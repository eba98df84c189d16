/**
 * The page inside the iframe (its own origin): a Handset phone exposed to the embedding page
 * named by `?parent=<origin>`, as the web phone would expose itself.
 */
import type * as HandsetSdk from '../../../../packages/sdk/src/index.js';
import { loopbackOnly } from './loopback-sdp.js';

const H = (window as unknown as { Handset: typeof HandsetSdk }).Handset;
const parentOrigin = new URLSearchParams(location.search).get('parent') ?? '';

H.exposeToParent((config) => new H.Phone({ ...config, iceServers: [], sdpTransform: loopbackOnly }), {
  allowedOrigins: [parentOrigin],
});
