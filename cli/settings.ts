import type { Settings } from '../lib/config/index.js';
import { getGame } from '../lib/game/index.js';
import type { ScheduleSettings } from './schedules.js';

/** The schedules as the settings ask for them. */
export function scheduleSettings(settings: Settings): ScheduleSettings {
  return {
    predictTimeoutMs: predictTimeoutMs(settings),
    modelShards: settings.MODEL_SHARDS,
    scoreEverySeconds: settings.SCORE_EVERY_SECONDS,
    game: settings.GAME,
  };
}

/** The call deadline: PREDICT_TIMEOUT_SECONDS, else the game's own. */
export function predictTimeoutMs(settings: Settings): number {
  return (settings.PREDICT_TIMEOUT_SECONDS ?? getGame(settings.GAME).predictTimeoutSeconds) * 1000;
}
