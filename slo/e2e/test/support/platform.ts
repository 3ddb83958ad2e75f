// The running platform the SLO tests measure, started with the services' own test support:
// - the message side (`@chatcluster/message/testing`): PostgreSQL, Redis, FerretDB behind Toxiproxy
//   (so a test can take MongoDB away), the real auth service and one message instance, all processes;
// - notification (`@chatcluster/notification/testing`) on the same Redis and auth, its providers
//   answered by the FCM and SendGrid stand-ins;
// - the operator process on a real kube-apiserver with the ChatCluster CRD.
// Each part starts once, on first use, and everything stops after the last test of the run.
import { installCrds, startKubeApiServer, type KubeApiServer } from '@chatcluster/harness';
import {
  AUDIENCE,
  ISSUER,
  startProcess,
  startStack,
  stopProcess,
  type ServiceProcess,
  type Stack,
} from '@chatcluster/message/testing';
import {
  FCM_PROJECT,
  FCM_TOKEN,
  FcmStandIn,
  SENDGRID_KEY,
  SendGridStandIn,
  serviceEnv,
  startChild,
  type ChildService,
} from '@chatcluster/notification/testing';
import { CHATCLUSTER_CRD, OPERATOR_MAIN } from './repo.js';

export interface MessageSide {
  stack: Stack;
  /** The message instance the tests send to and Prometheus scrapes. */
  message: ServiceProcess;
}

export interface Platform extends MessageSide {
  notification: ChildService;
  fcm: FcmStandIn;
  sendgrid: SendGridStandIn;
  kube: KubeApiServer;
  operator: ServiceProcess;
}

/** A scrape target: the service's name and its base URL (`/metrics` below it). */
export interface RunningService {
  name: 'auth' | 'message' | 'notification' | 'operator';
  url: string;
}

const stops: (() => Promise<void>)[] = [];
let messageSide: Promise<MessageSide> | undefined;
let everything: Promise<Platform> | undefined;

async function startMessageSide(): Promise<MessageSide> {
  const stack = await started(
    startStack({
      instances: 1,
      env: {
        // The tests send a few thousand requests as one user: no rate limit may answer them.
        SEND_RATE_PER_MIN: '1000000',
        SEND_BURST: '1000000',
        HTTP_RATE_PER_MIN: '1000000',
        // Sends fail within a second of MongoDB going away (then the breaker answers at once).
        MONGO_TIMEOUT_MS: '1000',
      },
    }),
    (s) => s.stop(),
  );
  return { stack, message: stack.instances[0]! };
}

/** The message service with its dependencies and auth. */
export function messagePlatform(): Promise<MessageSide> {
  messageSide ??= startMessageSide();
  return messageSide;
}

/** Resolves with what `start` started, having registered how to stop it first. */
async function started<T>(start: Promise<T>, stop: (value: T) => Promise<void>): Promise<T> {
  const value = await start;
  stops.push(() => stop(value));
  return value;
}

async function startEverything(): Promise<Platform> {
  const [side, fcm, sendgrid, kube] = await Promise.all([
    messagePlatform(),
    started(new FcmStandIn(FCM_PROJECT, FCM_TOKEN).start(), (s) => s.stop()),
    started(new SendGridStandIn(SENDGRID_KEY).start(), (s) => s.stop()),
    started(startKubeApiServer(), (k) => k.stop()),
  ]);
  await installCrds(kube.kubeConfig, [CHATCLUSTER_CRD]);
  const [notification, operator] = await Promise.all([
    started(
      startChild(
        serviceEnv(
          {
            redisUrl: side.stack.redis.url,
            authUrl: side.stack.auth.url,
            fcmUrl: fcm.url,
            sendgridUrl: sendgrid.url,
          },
          // Users sign in at the stack's auth, so tokens carry its issuer and audience.
          // Auth's internal API (member lookups) refuses calls without the stack's token.
          {
            JWT_ISSUER: ISSUER,
            JWT_AUDIENCE: AUDIENCE,
            INSTANCE_ID: 'notification-slo',
            INTERNAL_API_TOKEN: side.stack.messageEnv['INTERNAL_API_TOKEN']!,
          },
        ),
      ),
      async (child) => {
        child.child.kill('SIGKILL');
        await child.exited;
      },
    ),
    // Ready once it leads and its caches are synced, which needs the API server and the CRD.
    started(
      startProcess('operator', OPERATOR_MAIN, {
        KUBECONFIG: kube.kubeconfigPath,
        POD_NAMESPACE: 'default',
        POD_NAME: 'operator-slo',
      }),
      (p) => stopProcess(p),
    ),
  ]);
  return { ...side, notification, fcm, sendgrid, kube, operator };
}

/** auth, message, notification and the operator, all running. */
export function platform(): Promise<Platform> {
  everything ??= startEverything();
  return everything;
}

export function runningServices(p: Platform): RunningService[] {
  return [
    { name: 'auth', url: p.stack.auth.url },
    { name: 'message', url: p.message.url },
    { name: 'notification', url: p.notification.url },
    { name: 'operator', url: p.operator.url },
  ];
}

// Registered on mocha's root suite when the first test file imports this module.
after(async function () {
  this.timeout(120_000);
  await Promise.allSettled([messageSide, everything]);
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
});
