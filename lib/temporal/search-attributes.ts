import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes that make runs findable in the Temporal Web UI, e.g.
 * `CycleTime BETWEEN "2026-11-29T00:00:00Z" AND "2026-11-29T01:00:00Z" AND PredictionFailures > 0`.
 */
export const searchAttributes = {
  /** The scheduled instant a predict cycle or score pass stands for. */
  cycleTime: defineSearchAttributeKey('CycleTime', SearchAttributeType.DATETIME),
  /** Assets a predict cycle asked predictions for. */
  assets: defineSearchAttributeKey('Assets', SearchAttributeType.KEYWORD_LIST),
  /** How many models a cycle called. */
  modelsCalled: defineSearchAttributeKey('ModelsCalled', SearchAttributeType.INT),
  /** Predictions of a cycle that were not SUCCESS (FAILED, TIMEOUT, ABSENT). */
  predictionFailures: defineSearchAttributeKey('PredictionFailures', SearchAttributeType.INT),
  /** Predictions a score pass scored. */
  predictionsScored: defineSearchAttributeKey('PredictionsScored', SearchAttributeType.INT),
} as const;

export const allSearchAttributes = Object.values(searchAttributes);

/** `--search-attribute Name=Type` arguments for `temporal server start-dev`. */
export function devServerSearchAttributeArgs(): string[] {
  const cliType: Record<string, string> = {
    DATETIME: 'Datetime',
    KEYWORD_LIST: 'KeywordList',
    INT: 'Int',
    KEYWORD: 'Keyword',
    TEXT: 'Text',
    DOUBLE: 'Double',
    BOOL: 'Bool',
  };
  return allSearchAttributes.flatMap((key) => ['--search-attribute', `${key.name}=${cliType[key.type]}`]);
}
