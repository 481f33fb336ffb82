// `coordinator score-prediction --prices FILE --prediction FILE [--scorer likelihood|crps]`: scores
// one prediction the way the score pass does (predict-time validation first), for participants and
// operators checking a score by hand. Prints one JSON line; bad input -> a message on stderr, exit 2.
import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { defaultGameId, type GameDefinition, getGame, getScorer, type PredictionScore } from '../../lib/game/index.js';
import { seriesFromTickData } from '../../lib/game/prices.js';
import { parsePythonJson } from '../../lib/model-runner/python-json.js';

/** Input that cannot be scored at all (as opposed to a prediction that scores as failed). */
export class BadInputError extends Error {}

const STATUSES = ['SUCCESS', 'FAILED', 'TIMEOUT', 'ABSENT'];

export interface PredictionFile {
  asset: string;
  horizon: number;
  step: number;
  /** Unix seconds. */
  performedAt: number;
  status: string;
  distributions: unknown;
}

/** Unix seconds from a number of seconds or an ISO-8601 string (UTC when it names no offset). */
function parseTime(value: unknown, source: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    const withZone = /([zZ]|[+-]\d\d:?\d\d)$/.test(value.trim()) ? value.trim() : `${value.trim()}Z`;
    const ms = Date.parse(withZone);
    if (Number.isFinite(ms)) return ms / 1000;
  }
  throw new BadInputError(
    `${source}: performed_at must be unix seconds or an ISO-8601 time, got ${JSON.stringify(value) ?? 'nothing'}`,
  );
}

/** Checks the fields of a prediction file (the densities themselves are the game's to judge). */
export function parsePredictionFile(data: unknown, source: string): PredictionFile {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new BadInputError(
      `${source} must hold one prediction object {asset, horizon, step, performed_at, distributions}`,
    );
  }
  const record = data as Record<string, unknown>;
  const { asset, horizon, step } = record;
  if (typeof asset !== 'string' || asset === '') throw new BadInputError(`${source}: asset must be a non-empty string`);
  for (const [name, value] of [
    ['horizon', horizon],
    ['step', step],
  ] as const) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      throw new BadInputError(
        `${source}: ${name} must be a positive whole number of seconds, got ${JSON.stringify(value) ?? 'nothing'}`,
      );
    }
  }
  const status = record.status ?? 'SUCCESS';
  if (typeof status !== 'string' || !STATUSES.includes(status)) {
    throw new BadInputError(`${source}: status must be one of ${STATUSES.join(', ')}, got ${JSON.stringify(status)}`);
  }
  return {
    asset,
    horizon: horizon as number,
    step: step as number,
    performedAt: parseTime(record.performed_at, source),
    status,
    distributions: record.distributions,
  };
}

function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/**
 * The score of one prediction: predict-time validation, then the scorer. Throws BadInputError when
 * the prices cannot score it (no series for the asset, or prices that stop before it resolves).
 */
export function scorePredictionAgainst(
  game: GameDefinition,
  scorerName: string,
  pricesData: unknown,
  prediction: PredictionFile,
  pricesSource = 'the prices',
): PredictionScore {
  const scorer = getScorer(game, scorerName);
  let series: ReturnType<typeof seriesFromTickData>;
  try {
    series = seriesFromTickData(pricesData, pricesSource);
  } catch (error) {
    throw new BadInputError((error as Error).message);
  }
  const prices = series.get(prediction.asset);
  if (prices === undefined || prices.length === 0) {
    throw new BadInputError(`${pricesSource} has no prices for ${prediction.asset}`);
  }
  const resolvableAt = prediction.performedAt + prediction.horizon;
  if (!prices.covers(resolvableAt)) {
    throw new BadInputError(
      `${pricesSource}: ${prediction.asset} prices end at ${isoTime(prices.lastTime)}, before the prediction resolves at ${isoTime(resolvableAt)}; it is scored only once prices reach that time`,
    );
  }
  if (prediction.status === 'SUCCESS') {
    const check = game.validateOutput(prediction.distributions, prediction);
    if (!check.ok) return { success: false, score: null, reason: check.reason };
  }
  return scorer.score({ ...prediction, resolvableAt }, prices);
}

async function readJson(path: string, what: string, parse: (text: string) => unknown): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new BadInputError(
      `cannot read the ${what} file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  try {
    return parse(text);
  } catch (error) {
    throw new BadInputError(`the ${what} file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

export function register(program: Command): void {
  const game = getGame(defaultGameId);
  program
    .command('score-prediction')
    .description(
      'score one prediction against a price history, as the score pass would, and print {score, success, reason}',
    )
    .requiredOption('--prices <file>', 'prices in the tick format: {"BTC": [[unix_seconds, price], ...], ...}')
    .requiredOption(
      '--prediction <file>',
      'one prediction: {asset, horizon, step, performed_at (unix seconds or ISO-8601), status (default SUCCESS), distributions}',
    )
    .addOption(
      new Option('--scorer <name>', 'how to score it').choices(Object.keys(game.scorers)).default(game.defaultScorer),
    )
    .action(async (options: { prices: string; prediction: string; scorer: string }) => {
      try {
        const pricesData = await readJson(options.prices, 'prices', (text) => JSON.parse(text));
        // Python writes NaN and Infinity as bare tokens; they are the prediction's problem, not the file's.
        const predictionData = await readJson(options.prediction, 'prediction', parsePythonJson);
        const prediction = parsePredictionFile(predictionData, options.prediction);
        const result = scorePredictionAgainst(game, options.scorer, pricesData, prediction, options.prices);
        console.log(JSON.stringify({ score: result.score, success: result.success, reason: result.reason }));
      } catch (error) {
        if (!(error instanceof BadInputError)) throw error;
        console.error(`score-prediction: ${error.message}`);
        process.exitCode = 2;
      }
    });
}
