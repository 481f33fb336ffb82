import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance } from 'fastify';
import {
  BackendTerminatedError,
  BackendTerminatedUnexpectedlyError,
  ConnectionError,
  StatementCancelledError,
  StatementTimeoutError,
} from 'slonik';
import { withoutApiKey } from './api-keys.js';

// States that mean "the database cannot serve us now", not "the gateway is broken": network failures,
// SQLSTATE classes 08 (connection) and 28 (authorisation), a missing database, shutdown, too many clients.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EPIPE']);
const SQLSTATES = /^(08...|28...|3D000|57P0[123]|53300)$/;

function unavailableCode(error: unknown): string | undefined {
  for (let cause = error, depth = 0; cause && depth < 4; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || SQLSTATES.test(code))) return code;
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Why the database could not serve a request, in words for the caller; undefined if that is not the problem. */
export function databaseUnavailable(error: unknown): string | undefined {
  if (error instanceof StatementTimeoutError || error instanceof StatementCancelledError) {
    return 'the database did not answer in time (statement timeout); try a shorter range';
  }
  if (
    error instanceof ConnectionError ||
    error instanceof BackendTerminatedError ||
    error instanceof BackendTerminatedUnexpectedlyError ||
    unavailableCode(error)
  ) {
    return 'the database is unavailable';
  }
  return undefined;
}

const reason = (code: number): string => STATUS_CODES[code] ?? 'Error';

/**
 * Every error is a JSON `{statusCode, error, message}`: what Fastify and its plugins raise for bad
 * requests keeps its 4xx code, a database that cannot answer is a 503, anything else a 500 that is logged
 * (a bug, never the caller's input).
 */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode;
    if (error.validation || (status !== undefined && status >= 400 && status < 500)) {
      const code = status && status >= 400 && status < 500 ? status : 400;
      request.log.debug({ err: error, url: withoutApiKey(request.url) }, 'request refused');
      return reply.code(code).send({ statusCode: code, error: reason(code), message: error.message });
    }
    const unavailable = databaseUnavailable(error);
    if (unavailable) {
      request.log.warn({ err: error, url: withoutApiKey(request.url) }, `report request failed: ${unavailable}`);
      return reply.code(503).send({ statusCode: 503, error: reason(503), message: unavailable });
    }
    request.log.error(
      { err: error, url: withoutApiKey(request.url) },
      'report request failed with an unexpected error',
    );
    return reply.code(500).send({ statusCode: 500, error: reason(500), message: 'internal error (logged)' });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({
      statusCode: 404,
      error: reason(404),
      message: `no route ${request.method} ${request.url.split('?')[0]?.slice(0, 200)}; the API is described at /docs`,
    });
  });
}
