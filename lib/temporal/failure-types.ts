/**
 * Types of the failures no retry can fix: bad input to a workflow, a game or scorer the code does not know,
 * a game other than the worker's. Activities throw them non-retryable, and every workflow-side retry policy
 * lists them (workflows/queues.ts), so the workflow fails at once with the message for the operator.
 * No SDK import: workflows and activities both read it.
 */
export const failureTypes = {
  badInput: 'BadInput',
  unknownGame: 'UnknownGame',
  gameMismatch: 'GameMismatch',
} as const;

export const nonRetryableFailureTypes: string[] = Object.values(failureTypes);
