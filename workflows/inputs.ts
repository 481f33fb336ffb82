// What every workflow does with its input: the instant it stands for, and checks that fail the workflow
// (not just its task) with a message for the operator, since no retry fixes bad input.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { defaultGameId } from '../lib/game/default-game.js';
import { failureTypes } from '../lib/temporal/failure-types.js';

/** Set by Temporal on every run a schedule starts: the instant the run was scheduled for. */
const scheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

export function badInput(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, failureTypes.badInput);
}

/**
 * ISO-8601 only: a date, or a date and time with its offset. `Date` would also read '12/04/2026' or a time
 * without offset, in the worker's own time zone: another worker could read the same input differently.
 */
const isoInstant = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$/;

/** Unix seconds (whole) of an ISO instant; `what` names it in the error. */
export function instantOf(value: unknown, what: string): number {
  const ms = typeof value === 'string' && isoInstant.test(value) ? new Date(value).getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw badInput(`${what} "${String(value)}" is not an ISO-8601 instant`);
  return Math.floor(ms / 1000);
}

/**
 * The instant a run stands for (unix seconds): `given` when the caller said (ISO), else the time its
 * schedule scheduled it for, else its start time. A retried or repeated run so stands for the same instant.
 */
export function runInstant(given: string | undefined, what: string): number {
  if (given !== undefined) return instantOf(given, what);
  const info = workflowInfo();
  const at = info.typedSearchAttributes.get(scheduledStartTime) ?? info.startTime;
  return Math.floor(at.getTime() / 1000);
}

export function positiveInteger(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!(Number.isInteger(value) && value > 0)) throw badInput(`${what} must be a positive whole number, got ${value}`);
  return value;
}

/** The game of a run: the one its input names, else the default game (lib/game). */
export function gameOf(input: { game?: string } | undefined): string {
  return input?.game ?? defaultGameId;
}
