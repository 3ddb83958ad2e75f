// @chatcluster/auth-client: what the message and notification services need from auth without
// calling it on every request (docs/auth-service.md, "Why other services do not call auth per request").
export {
  AuthUnavailableError,
  KeysUnavailableError,
  TokenRejectedError,
  type TokenRejection,
} from './errors.js';
export {
  bearerToken,
  DEFAULT_ALGORITHMS,
  verifyAccessToken,
  type AccessTokenClaims,
  type VerifyOptions,
} from './verify.js';
export { JwksVerifier, type JwksVerifierOptions } from './jwks-verifier.js';
export {
  MEMBERSHIP_TTL_SECONDS,
  membershipKey,
  readMembershipCache,
  SET_IF_NEWER_SCRIPT,
  writeMembershipCache,
  type CacheRedis,
  type MembershipAnswer,
} from './membership-cache.js';
export { MembershipClient, type ChannelMember, type MembershipClientOptions } from './membership-client.js';
