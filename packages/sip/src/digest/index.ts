/** HTTP Digest authentication for SIP (RFC 7616, RFC 8760, RFC 3261 §22): a pure library over header values. */
export {
  parseAuthHeader,
  AUTH_HEADER_LIMITS,
  type AuthHeader,
  type AuthHeaderLimits,
  type AuthHeaderParseError,
  type ParseAuthHeaderResult,
} from './auth-header-parser.js';
export { formatAuthHeader, type AuthParam } from './auth-header-formatter.js';
export {
  DIGEST_ALGORITHMS,
  parseDigestAlgorithm,
  type DigestAlgorithm,
  type DigestAlgorithmName,
  type DigestBaseAlgorithm,
} from './digest-algorithm.js';
export { DigestError, type DigestErrorCode } from './digest-error.js';
export {
  computeDigestResponse,
  computeDigestResponseBytes,
  computeHa1,
  type DigestQop,
  type DigestResponseInput,
} from './digest-response.js';
export {
  NonceIssuer,
  DEFAULT_NONCE_TTL_MS,
  type NonceCheck,
  type NonceIssuerOptions,
  type NonceStatus,
} from './nonce-issuer.js';
export { NonceCountTracker, type NonceCountTrackerOptions, type NonceCountVerdict } from './nonce-count-tracker.js';
export {
  DigestAuthenticator,
  type AuthFailureReason,
  type AuthResult,
  type CredentialLookup,
  type DigestAuthenticatorOptions,
  type DigestVerifyRequest,
  type StoredCredentials,
} from './digest-authenticator.js';
export { pickCredentials, pickParsedCredentials, type PickedCredentials } from './pick-credentials.js';
export { computeAuthorization, type AuthorizationOptions } from './compute-authorization.js';
