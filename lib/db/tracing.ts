import { type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Interceptor } from 'slonik';

const tracer = trace.getTracer('crunch-coordinator/db');

/** `INSERT predictions`, `SELECT`, ...: the statement's verb and, for writes, the table. */
export function statementName(sqlText: string): string {
  const text = sqlText.replace(/--[^\n]*/g, ' ').trim();
  const write = /\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+("?[\w.]+"?)/i.exec(text);
  if (write) return `${write[1]!.split(/\s+/)[0]!.toUpperCase()} ${write[2]!.replace(/"/g, '')}`;
  return (/^\s*(?:WITH\b[\s\S]*?\)\s*)?(\w+)/.exec(text)?.[1] ?? 'query').toUpperCase();
}

/**
 * A slonik interceptor that wraps each query in an OpenTelemetry span (client kind, `db.system`
 * postgresql, the statement's first 500 characters), a child of whatever span is active: the predict
 * fan-out, an activity. With no tracer provider registered the spans are no-ops.
 */
export function tracingInterceptor(): Interceptor {
  return {
    name: 'opentelemetry',
    beforeQueryExecution(context, query) {
      const span = tracer.startSpan(statementName(query.sql), {
        kind: SpanKind.CLIENT,
        attributes: { 'db.system': 'postgresql', 'db.statement': query.sql.slice(0, 500) },
      });
      context.sandbox.span = span;
      return null;
    },
    afterQueryExecution(context, _query, result) {
      const span = context.sandbox.span as Span | undefined;
      span?.setAttribute('db.rows', result.rowCount);
      span?.end();
      return null;
    },
    queryExecutionError(context, _query, error) {
      const span = context.sandbox.span as Span | undefined;
      span?.recordException(error);
      span?.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      span?.end();
      return null;
    },
  };
}
