import { parentPort } from 'node:worker_threads';
import { getGame, getScorer, PriceSeries, scoreEach } from '../game/index.js';
import type { ScoreReply, ScoreRequest } from './messages.js';

// A scoring thread: scores what it is sent, one request at a time, and answers with the scores. It
// holds nothing between requests, so any thread can take any piece of any batch.
const port = parentPort;
if (port === null) throw new Error('lib/score-threads/thread.ts runs as a worker thread only');

port.on('message', (request: ScoreRequest) => {
  let reply: ScoreReply;
  try {
    const scorer = getScorer(getGame(request.game), request.scorer);
    const series = new Map<string, PriceSeries>();
    for (const [asset, arrays] of Object.entries(request.series)) {
      series.set(asset, PriceSeries.fromSorted(arrays.times, arrays.prices));
    }
    reply = { id: request.id, results: scoreEach(scorer, request.predictions, (asset) => series.get(asset)) };
  } catch (error) {
    reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
