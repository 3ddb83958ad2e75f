// The notification service's test support for other packages' tests, as
// `@chatcluster/notification/testing` (the SLO end-to-end suite runs the service through it).
// Re-exports only: the integration tests' own support files stay the one place that knows how to
// configure and start the service and its provider stand-ins.
export {
  FCM_PROJECT,
  FCM_TOKEN,
  SENDGRID_KEY,
  metric,
  serviceEnv,
  startChild,
  waitUntil,
  type ChildService,
  type Endpoints,
} from './service.js';
export { fcmToken, settingsApi, type TestUser } from './world.js';
export { FcmStandIn } from '../../support/fcm-standin.js';
export { SendGridStandIn } from '../../support/sendgrid-standin.js';
