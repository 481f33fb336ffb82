// Rolling-window scores (docs/game.md#windows-and-leaderboard, with our decisions), as plain functions over scored
// predictions at one instant `asOf`. This is the reference the SQL version is tested against.
import type { WindowLengths } from './definition.js';

export type WindowName = keyof WindowLengths;
export const WINDOW_NAMES: readonly WindowName[] = ['recent', 'steady', 'anchor'];

export interface ScoredPrediction {
  modelId: string;
  asset: string;
  horizon: number;
  step: number;
  /** Unix seconds. */
  resolvableAt: number;
  /** The stored score value (failed predictions carry their penalty); null values are ignored, like SQL AVG. */
  value: number | null;
}

export interface WindowScores {
  recent: number | null;
  steady: number | null;
  anchor: number | null;
}

export interface GroupWindowScores extends WindowScores {
  modelId: string;
  asset: string;
  horizon: number;
  step: number;
}

export interface ModelWindowScores extends WindowScores {
  modelId: string;
}

/**
 * Per (model, asset, horizon, step) group at `asOf`:
 * - only predictions with resolvableAt <= asOf count (a pass at a past instant sees the past);
 * - a group is listed when it has a scored prediction in the longest window, [asOf - longest, asOf];
 * - a window's mean covers resolvableAt in [asOf - length, asOf], and exists only when the group's
 *   first scored prediction (over all its history up to asOf) is at least one window length old,
 *   i.e. resolvableAt <= asOf - length; it is null when the window holds no value.
 */
export function groupWindowScores(
  scores: Iterable<ScoredPrediction>,
  asOf: number,
  windows: WindowLengths,
): GroupWindowScores[] {
  const longest = Math.max(windows.recent, windows.steady, windows.anchor);
  interface Accumulator {
    key: GroupWindowScores;
    first: number;
    inLongest: boolean;
    sums: Record<WindowName, number>;
    counts: Record<WindowName, number>;
  }
  const groups = new Map<string, Accumulator>();
  for (const score of scores) {
    if (!(score.resolvableAt <= asOf)) continue;
    const id = JSON.stringify([score.modelId, score.asset, score.horizon, score.step]);
    let group = groups.get(id);
    if (group === undefined) {
      group = {
        key: {
          modelId: score.modelId,
          asset: score.asset,
          horizon: score.horizon,
          step: score.step,
          recent: null,
          steady: null,
          anchor: null,
        },
        first: score.resolvableAt,
        inLongest: false,
        sums: { recent: 0, steady: 0, anchor: 0 },
        counts: { recent: 0, steady: 0, anchor: 0 },
      };
      groups.set(id, group);
    }
    if (score.resolvableAt < group.first) group.first = score.resolvableAt;
    if (score.resolvableAt >= asOf - longest) group.inLongest = true;
    if (score.value === null) continue;
    for (const name of WINDOW_NAMES) {
      if (score.resolvableAt >= asOf - windows[name]) {
        group.sums[name] += score.value;
        group.counts[name]++;
      }
    }
  }
  const result: GroupWindowScores[] = [];
  for (const group of groups.values()) {
    if (!group.inLongest) continue;
    const row = group.key;
    for (const name of WINDOW_NAMES) {
      const oldEnough = group.first <= asOf - windows[name];
      row[name] = oldEnough && group.counts[name] > 0 ? group.sums[name] / group.counts[name] : null;
    }
    result.push(row);
  }
  return result;
}

/** Per model: the unweighted mean over its groups of each window, null if any group's is null. */
export function modelWindowScores(groups: Iterable<GroupWindowScores>): ModelWindowScores[] {
  const byModel = new Map<string, GroupWindowScores[]>();
  for (const group of groups) {
    const list = byModel.get(group.modelId);
    if (list === undefined) byModel.set(group.modelId, [group]);
    else list.push(group);
  }
  const result: ModelWindowScores[] = [];
  for (const [modelId, list] of byModel) {
    const row: ModelWindowScores = { modelId, recent: null, steady: null, anchor: null };
    for (const name of WINDOW_NAMES) {
      let sum = 0;
      let complete = true;
      for (const group of list) {
        const value = group[name];
        if (value === null) {
          complete = false;
          break;
        }
        sum += value;
      }
      row[name] = complete ? sum / list.length : null;
    }
    result.push(row);
  }
  return result;
}
