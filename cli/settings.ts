import type { GatewayOptions } from '../gateway/app.js';
import type { Settings } from '../lib/config/index.js';
import { getGame } from '../lib/game/index.js';
import type { CheckpointScheduleSettings, ScheduleSettings } from './schedules.js';

/** The schedules as the settings ask for them. */
export function scheduleSettings(settings: Settings): ScheduleSettings {
  return {
    predictTimeoutMs: predictTimeoutMs(settings),
    modelShards: settings.MODEL_SHARDS,
    scoreEverySeconds: settings.SCORE_EVERY_SECONDS,
    game: settings.GAME,
    checkpoint: checkpointSettings(settings),
  };
}

/** What each emission checkpoint is made with. */
export function checkpointSettings(settings: Settings): CheckpointScheduleSettings {
  return {
    everySeconds: settings.CHECKPOINT_INTERVAL_SECONDS,
    crunch: settings.CRUNCH_PUBKEY,
    ...(settings.COMPUTE_PROVIDER ? { computeProvider: settings.COMPUTE_PROVIDER } : {}),
    ...(settings.DATA_PROVIDER ? { dataProvider: settings.DATA_PROVIDER } : {}),
  };
}

const prefixes = (list: string | undefined) =>
  list
    ?.split(',')
    .map((prefix) => prefix.trim())
    .filter((prefix) => prefix !== '');

/** The gateway's API keys and node identity, as the settings ask for them. */
export function gatewayNodeOptions(settings: Settings): Pick<GatewayOptions, 'apiKeys' | 'node'> {
  const game = getGame(settings.GAME);
  const publicPrefixes = prefixes(settings.API_PUBLIC_PREFIXES);
  const adminPrefixes = prefixes(settings.API_ADMIN_PREFIXES);
  return {
    node: {
      crunchId: settings.CRUNCH_ID ?? game.crunchId,
      crunchAddress: settings.CRUNCH_PUBKEY,
      network: settings.NETWORK,
      windows: game.windows,
    },
    ...(settings.API_KEY
      ? {
          apiKeys: {
            key: settings.API_KEY,
            readAuth: settings.API_READ_AUTH,
            ...(publicPrefixes ? { publicPrefixes } : {}),
            ...(adminPrefixes ? { adminPrefixes } : {}),
          },
        }
      : {}),
  };
}

/** The call deadline: PREDICT_TIMEOUT_SECONDS, else the game's own. */
export function predictTimeoutMs(settings: Settings): number {
  return (settings.PREDICT_TIMEOUT_SECONDS ?? getGame(settings.GAME).predictTimeoutSeconds) * 1000;
}
