// The service's own error codes (the kit's cover the rest).
import { defineErrorCodes } from '@chatcluster/kit';

export const notifyErrors = defineErrorCodes({ NOTIFY_DEVICE_NOT_FOUND: 404 });
