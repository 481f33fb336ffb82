// OpenTelemetry tracing of the workers: the Temporal SDK's interceptors (workflow client, workflows,
// activities) plus the coordinator's own spans (model fan-out in activity-context.ts, one per database
// statement from lib/db's slonik interceptor), in one trace per predict cycle. Exported over OTLP/HTTP
// when OTEL_EXPORTER_OTLP_ENDPOINT is set; off otherwise (the API's no-op tracer costs next to nothing).
import { createRequire } from 'node:module';
import { trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';

export interface Tracing {
  /** Put first in a worker's interceptors: the activity span must be active for the others' spans. */
  activity: ActivityInterceptorsFactory[];
  /** `interceptors.workflowModules`: the workflow-side interceptors, bundled with the workflows. */
  workflowModules: string[];
  /** `sinks` of the worker that runs workflows: how workflow spans leave the sandbox. */
  sinks: InjectedSinks<Record<string, never>>;
  /** `interceptors.workflow` of a Client: starting a workflow opens its trace. */
  clientWorkflowInterceptors: OpenTelemetryWorkflowClientInterceptor[];
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

const workflowInterceptors = createRequire(import.meta.url).resolve(
  '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors',
);

/**
 * Registers a tracer provider for this process (the global one every `trace.getTracer` reads) that
 * hands finished spans to `spanProcessor`, and returns the Temporal interceptors that feed it.
 */
export function installTracing(options: { spanProcessor: SpanProcessor; serviceName: string }): Tracing {
  const resource = new Resource({ 'service.name': options.serviceName });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [options.spanProcessor] });
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });
  const tracer = trace.getTracer('crunch-coordinator/temporal');
  return {
    activity: [
      (context) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(context, { tracer }),
        outbound: new OpenTelemetryActivityOutboundInterceptor(context),
      }),
    ],
    workflowModules: [workflowInterceptors],
    sinks: { exporter: makeWorkflowExporter(options.spanProcessor, resource) } as unknown as InjectedSinks<
      Record<string, never>
    >,
    clientWorkflowInterceptors: [new OpenTelemetryWorkflowClientInterceptor({ tracer })],
    shutdown: () => provider.shutdown(),
  };
}

/** Tracing over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set (the exporter reads the OTEL_* variables). */
export function tracingFromEnvironment(serviceName: string): Tracing | undefined {
  if (!process.env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  return installTracing({ spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter()), serviceName });
}
