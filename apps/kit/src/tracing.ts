// OpenTelemetry tracing: W3C `traceparent` in and out, a server span per request, withSpan() for
// the work inside. No exporter by default; pass span processors to ship or inspect spans.
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { RequestHandler } from 'express';
import { onResponseDone } from './http/response-done.js';
import { routePattern } from './http/route-pattern.js';
import { addRequestLogFields } from './logger.js';

export { InMemorySpanExporter, SimpleSpanProcessor, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
export type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';

const tracerName = '@chatcluster/kit';

export interface TracingOptions {
  service: string;
  /** E.g. `new SimpleSpanProcessor(new InMemorySpanExporter())` in tests, a BatchSpanProcessor in production. */
  spanProcessors?: SpanProcessor[];
}

export interface Tracing {
  readonly service: string;
  readonly provider: BasicTracerProvider;
  /** Flushes span processors and unregisters the globals, so tracing can be initialised again. */
  shutdown: () => Promise<void>;
}

let active: Tracing | undefined;

/** The tracing initialised in this process, if any (OpenTelemetry's globals allow one). */
export function currentTracing(): Tracing | undefined {
  return active;
}

export function initTracing(options: TracingOptions): Tracing {
  if (active) throw new Error(`tracing is already initialised for ${active.service}; shut it down first`);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.service }),
    spanProcessors: options.spanProcessors ?? [],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  const tracing: Tracing = {
    service: options.service,
    provider,
    async shutdown() {
      if (active !== tracing) return;
      active = undefined;
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
  active = tracing;
  return tracing;
}

/**
 * Continues the caller's trace from `traceparent` and wraps the request in a server span, named
 * `METHOD route` once routing has found the route. Also adds `traceId` to the request's log lines.
 */
export const tracingMiddleware: RequestHandler = (req, res, next) => {
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const span = trace
    .getTracer(tracerName)
    .startSpan(
      req.method,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.path } },
      parent,
    );
  addRequestLogFields({ traceId: span.spanContext().traceId });
  onResponseDone(res, (status) => {
    const route = routePattern(req);
    span.updateName(`${req.method} ${route}`);
    span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  context.with(trace.setSpan(parent, span), next);
};

/** Adds `traceparent` (and `tracestate`) for the current span to outgoing request headers. */
export function injectTraceContext<H extends Record<string, string>>(headers: H): H {
  propagation.inject(context.active(), headers);
  return headers;
}

/** The current trace id, or undefined outside a recorded span. */
export function currentTraceId(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/** Runs `fn` in a child span of the current one; a throw marks the span as failed. */
export async function withSpan<T>(
  name: string,
  fn: (span: Span) => Promise<T>,
  attributes: Attributes = {},
): Promise<T> {
  return trace.getTracer(tracerName).startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  });
}
