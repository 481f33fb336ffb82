// Predictions scored per second, ours against a Python loop over densitypdf doing the same
// scoring (docs/game.md#likelihood, and docs/game.md#crps with numpy), measured in the same run on the same input.
// `npm run bench -- scoring [--seconds S] [--rounds R] [--predictions N]`
import { scoreCrps, scoreLikelihood } from '../lib/game/condor/index.js';
import { runReference } from '../lib/game/condor/python/reference.js';
import type { ScorablePrediction } from '../lib/game/definition.js';
import { PriceSeries } from '../lib/game/prices.js';
import { toolsPython } from '../test/support/tools.js';
import { type BenchPrediction, buildScenario } from './scoring/scenario.js';

interface PythonRate {
  predictions: number;
  cpu_seconds: number;
  per_cpu_second: number;
}
interface PythonScore {
  success: boolean;
  score: number | null;
}

function option(args: string[], name: string, fallback: number): number {
  const index = args.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(args[index + 1]);
  if (!(value > 0)) throw new Error(`--${name} needs a positive number, got ${args[index + 1]}`);
  return value;
}

const scorable = (p: BenchPrediction): ScorablePrediction => ({ ...p, resolvableAt: p.resolvable_at });

/** CPU seconds used by this process so far (user + system, all threads, GC included). */
function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/**
 * Scores the predictions round and round for about `seconds` of CPU time; returns predictions per
 * CPU second. CPU time rather than wall time, on both sides, because the machine is shared: time
 * spent waiting for a core would otherwise count against whichever side ran during a busy moment.
 */
function rate(score: (p: ScorablePrediction) => unknown, predictions: ScorablePrediction[], seconds: number): number {
  const started = cpuSeconds();
  let scored = 0;
  do {
    for (const prediction of predictions) score(prediction);
    scored += predictions.length;
  } while (cpuSeconds() - started < seconds);
  return scored / (cpuSeconds() - started);
}

function maxRelativeDifference(ours: Array<number | null>, theirs: PythonScore[]): number {
  let worst = 0;
  ours.forEach((score, i) => {
    const reference = theirs[i]?.score;
    if (score === null || reference === null || reference === undefined)
      throw new Error(`prediction ${i} was not scored`);
    worst = Math.max(worst, Math.abs(score - reference) / Math.abs(reference));
  });
  return worst;
}

export default async function scoring(args: string[]): Promise<Record<string, unknown>> {
  const seconds = option(args, 'seconds', 2);
  const rounds = option(args, 'rounds', 3);
  const count = option(args, 'predictions', 100);
  const python = toolsPython();
  const scenario = buildScenario(count);
  const prices = PriceSeries.fromPoints(scenario.prices.BTC!, 'BTC');
  const likelihoodPredictions = scenario.likelihood.map(scorable);
  const crpsPredictions = scenario.crps.map(scorable);
  const steps = likelihoodPredictions[0]!.horizon / likelihoodPredictions[0]!.step;
  const likelihood = (p: ScorablePrediction) => scoreLikelihood(p, prices);
  const crps = (p: ScorablePrediction) => scoreCrps(p, prices);

  console.error(
    `scoring: ${count} predictions of ${steps} steps, ${rounds} rounds of ${seconds} CPU s per measurement`,
  );
  console.error('  checking that both sides give the same scores...');
  const referenceLikelihood = await runReference<PythonScore[]>(python, {
    mode: 'likelihood',
    prices: scenario.prices,
    predictions: scenario.likelihood,
  });
  const crpsSample = scenario.crps.slice(0, 5);
  const referenceCrps = await runReference<PythonScore[]>(python, {
    mode: 'crps',
    prices: scenario.prices,
    predictions: crpsSample,
    half_widths: { BTC: 1500 },
  });
  const likelihoodDifference = maxRelativeDifference(
    likelihoodPredictions.map((p) => likelihood(p).score),
    referenceLikelihood,
  );
  const crpsDifference = maxRelativeDifference(
    crpsSample.map((p) => crps(scorable(p)).score),
    referenceCrps,
  );

  // Rounds alternate ours and Python's; the best round of each side counts (the least disturbed).
  const best = { likelihoodOurs: 0, likelihoodPython: 0, crpsOurs: 0, crpsPython: 0 };
  rate(likelihood, likelihoodPredictions, 0.5); // JIT warm-up
  rate(crps, crpsPredictions.slice(0, 10), 0.5);
  for (let round = 1; round <= rounds; round++) {
    console.error(`  round ${round} of ${rounds}: likelihood (ours, Python), CRPS (ours, Python)`);
    best.likelihoodOurs = Math.max(best.likelihoodOurs, rate(likelihood, likelihoodPredictions, seconds));
    const likelihoodPython = await runReference<PythonRate>(python, {
      mode: 'bench',
      scorer: 'likelihood',
      seconds,
      prices: scenario.prices,
      predictions: scenario.likelihood,
    });
    best.likelihoodPython = Math.max(best.likelihoodPython, likelihoodPython.per_cpu_second);
    best.crpsOurs = Math.max(best.crpsOurs, rate(crps, crpsPredictions, seconds));
    const crpsPython = await runReference<PythonRate>(python, {
      mode: 'bench',
      scorer: 'crps',
      seconds,
      prices: scenario.prices,
      predictions: crpsSample,
      half_widths: { BTC: 1500 },
    });
    best.crpsPython = Math.max(best.crpsPython, crpsPython.per_cpu_second);
  }

  const round = (value: number, digits = 1) => Number(value.toFixed(digits));
  const figures = {
    steps_per_prediction: steps,
    likelihood_per_cpu_second_ours: round(best.likelihoodOurs),
    likelihood_per_cpu_second_python: round(best.likelihoodPython),
    likelihood_ratio_vs_python: round(best.likelihoodOurs / best.likelihoodPython),
    crps_per_cpu_second_ours: round(best.crpsOurs),
    crps_per_cpu_second_python: round(best.crpsPython, 2),
    crps_ratio_vs_python: round(best.crpsOurs / best.crpsPython),
    likelihood_max_relative_difference: likelihoodDifference,
    crps_max_relative_difference: crpsDifference,
  };
  console.error(figures);
  return figures;
}
