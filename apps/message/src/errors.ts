// The message service's error codes (docs/protocol.md, "Error codes").
import { defineErrorCodes } from '@chatcluster/kit';

export const msgErrors = defineErrorCodes({
  MSG_NOT_A_MEMBER: 403,
  MSG_NOT_SENDER: 403,
  MSG_CHANNEL_NOT_FOUND: 404,
  MSG_NOT_FOUND: 404,
  MSG_ALREADY_DELETED: 409,
  MSG_IDEMPOTENCY_MISMATCH: 422,
  /** More distinct reaction keys on one message than allowed (store/reaction-store.ts). */
  MSG_REACTION_LIMIT: 409,
  /** More reaction keys from one user on one message than allowed. */
  MSG_USER_REACTION_LIMIT: 409,
  MSG_STORE_UNAVAILABLE: 503,
  MSG_AUTH_UNAVAILABLE: 503,
  /** A fault injected by this version's configuration (FAULT_SEND_ERROR_PERCENT): release tests. */
  MSG_FAULT_INJECTED: 503,
  MALFORMED_FRAME: 400,
  UNKNOWN_FRAME: 400,
});
