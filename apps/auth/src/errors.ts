// The auth service's own error codes (stable: clients branch on them), registered with the kit so
// its error handler renders them; the shared ones (VALIDATION_FAILED, UNAUTHENTICATED, FORBIDDEN,
// RATE_LIMITED, DEPENDENCY_UNAVAILABLE, …) come from kitErrors.
import { defineErrorCodes } from '@chatcluster/kit';

export const authErrors = defineErrorCodes({
  AUTH_INVALID_CREDENTIALS: 401,
  AUTH_INVALID_REFRESH_TOKEN: 401,
  AUTH_REFRESH_TOKEN_REUSED: 401,
  AUTH_USERNAME_TAKEN: 409,
  AUTH_EMAIL_TAKEN: 409,
  AUTH_CHANNEL_NOT_FOUND: 404,
  AUTH_USER_NOT_FOUND: 404,
  AUTH_LAST_OWNER: 409,
});
