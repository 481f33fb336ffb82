// What the coordinator asks of the models comes from the game: its prediction configs become the active ones.
import { activatePredictionGroups, type DatabasePool } from '../lib/db/index.js';
import type { GameDefinition } from '../lib/game/index.js';
import type { Logger } from '../lib/log/index.js';

/** Makes the game's default prediction configs the active ones (others are kept, inactive). */
export async function activateGame(db: DatabasePool, game: GameDefinition, logger: Logger): Promise<number> {
  const active = await activatePredictionGroups(db, game.defaultPredictionConfigs);
  logger.info({ game: game.id, configs: active }, `game ${game.id}: ${active} active prediction configs`);
  return active;
}
