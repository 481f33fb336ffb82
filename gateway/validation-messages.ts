// Messages for requests the querystring schemas refuse, in the words of the rule that was broken rather
// than the validator's ("must match pattern ..."): the schemas hold the rules (so the OpenAPI document
// states them), and these say them to the caller.
import type { FastifySchemaValidationError } from 'fastify/types/schema.js';
import { MAX_ID_LENGTH, MAX_IDS_PER_VALUE, projectIdsOf, SINGLE_ID_VALUE_PATTERN } from './params.js';
import { parseTimeParameter } from './times.js';

const IDS_REQUIRED =
  'projectIds is required: one or more model ids, comma-separated (projectIds=a,b) or repeated (projectIds=a&projectIds=b)';

function oneModelOnly(data: unknown): string {
  const values = (Array.isArray(data) ? data : [data]).filter((value): value is string => typeof value === 'string');
  let ids: string[];
  try {
    ids = projectIdsOf({ projectIds: values });
  } catch {
    ids = [];
  }
  if (ids.length === 0) return IDS_REQUIRED;
  if (ids.length === 1) {
    return `projectIds must name one model id of at most ${MAX_ID_LENGTH} characters here`;
  }
  const named = `${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', ...' : ''}`;
  return `/reports/predictions serves one model at a time, but projectIds names ${ids.length} (${named}); ask once per model`;
}

function describe(error: FastifySchemaValidationError & { data?: unknown }, dataVar: string): string {
  const [, field] = error.instancePath.split('/');
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required' && params.missingProperty === 'projectIds') return IDS_REQUIRED;
  if (field === 'projectIds') {
    if (error.keyword === 'contains' || error.keyword === 'minItems') return IDS_REQUIRED;
    if (error.keyword === 'maxItems' && params.limit === 1) return oneModelOnly(error.data);
    if (error.keyword === 'pattern' && params.pattern === SINGLE_ID_VALUE_PATTERN) return oneModelOnly(error.data);
    if (error.keyword === 'pattern') {
      return `a projectIds value names at most ${MAX_IDS_PER_VALUE} ids of at most ${MAX_ID_LENGTH} characters, and none may contain NUL (%00)`;
    }
  }
  if ((field === 'start' || field === 'end') && typeof error.data === 'string') {
    try {
      parseTimeParameter(error.data, field);
    } catch (parseError) {
      return (parseError as Error).message;
    }
  }
  return `${dataVar}${error.instancePath} ${error.message}`;
}

/** Fastify's schemaErrorFormatter: the first broken rule, said plainly (ajv runs with `verbose` for the value). */
export function validationMessage(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const first = errors[0];
  return new Error(first ? describe(first, dataVar) : `${dataVar} is not valid`);
}
