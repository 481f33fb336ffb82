import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';

const scheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/**
 * The instant (unix seconds) a run stands for: the input's ISO `scheduledAt`, else the schedule's
 * scheduled time, else the run's start time. Derived once, so every retry and replay sees the same.
 */
export function scheduledInstant(scheduledAt: string | undefined): number {
  const info = workflowInfo();
  const at = scheduledAt
    ? new Date(scheduledAt)
    : (info.typedSearchAttributes.get(scheduledStartTime) ?? info.startTime);
  const ms = at.getTime();
  if (Number.isNaN(ms)) {
    throw ApplicationFailure.nonRetryable(`scheduledAt "${scheduledAt}" is not an ISO instant`, 'BadInput');
  }
  return Math.floor(ms / 1000);
}
