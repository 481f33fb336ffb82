import type { Settings } from '../lib/config/index.js';
import type { ScheduleSettings } from './schedules.js';

/** The schedules as the settings ask for them. */
export function scheduleSettings(settings: Settings): ScheduleSettings {
  return {
    predictEverySeconds: settings.PREDICT_EVERY_SECONDS,
    predictTimeoutMs: settings.PREDICT_TIMEOUT_SECONDS * 1000,
    modelShards: settings.MODEL_SHARDS,
    scoreEverySeconds: settings.SCORE_EVERY_SECONDS,
    game: settings.GAME,
  };
}
