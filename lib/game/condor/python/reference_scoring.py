"""Condor scoring written in Python from docs/game.md, on densitypdf: the reference our TypeScript
scorers are checked against (tests) and raced against (bench/scoring.ts).

Reads one JSON request on stdin, writes one JSON answer on stdout. Requests ({"mode": ...}):
  pdf         {"cases": [{"spec", "x"}]} -> densitypdf's value (or its error) and, for a single
              named distribution, scipy.stats' value
  lgamma      {"xs": [...]} -> math.lgamma of each
  likelihood  {"prices": {asset: [[ts, price]]}, "predictions": [...]} -> docs/game.md#likelihood per prediction
  crps        same, plus "half_widths", "points", "base_step", "normalise" -> docs/game.md#crps
  upstream_crps {"cases": [{"spec", "x", "half_width"}]} -> condorgame's and crunch_synth's own crps_integral
  bench       {"scorer": "likelihood"|"crps", "seconds": s, ...} -> predictions scored per CPU second
Non-finite pdf values are returned as the strings "Infinity", "-Infinity" or "NaN".
"""

import bisect
import json
import math
import sys
import time

import numpy as np
import scipy.stats as st
from densitypdf import density_pdf


def encode_number(value):
    """JSON has no infinities or NaN: those go out as the strings "Infinity", "-Infinity", "NaN"."""
    value = float(value)
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def unwrap(spec):
    # docs/game.md decides to accept the {"step", "prediction"} wrapper, which densitypdf rejects.
    if isinstance(spec, dict) and "type" not in spec and "prediction" in spec:
        return spec["prediction"]
    return spec


class Prices:
    """One asset's points, sorted, with the closest-price rule of docs/game.md#prices."""

    def __init__(self, points):
        latest = {}
        for ts, price in points:
            latest[ts] = price
        self.times = sorted(latest)
        self.prices = [latest[t] for t in self.times]

    def closest(self, t):
        pos = bisect.bisect_left(self.times, t)
        if pos == 0:
            return 0
        if pos == len(self.times):
            return len(self.times) - 1
        return pos - 1 if t - self.times[pos - 1] <= self.times[pos] - t else pos


def failed(reason):
    return {"success": False, "score": None, "reason": reason}


def step_pairs(prediction, prices):
    """(k, current index, previous index) walking from resolvable_at back, skipping same-point steps."""
    t = prediction["resolvable_at"]
    step = prediction["step"]
    count = len(prediction["distributions"])
    for k in range(count - 1, -1, -1):
        current = prices.closest(t)
        previous = prices.closest(t - step)
        if current != previous:
            yield k, current, previous
        t -= step


def check_shape(prediction):
    if prediction.get("status", "SUCCESS") != "SUCCESS":
        return f"The prediction not succeed PredictionStatus.{prediction['status']}"
    distributions = prediction["distributions"]
    if not isinstance(distributions, list):
        return "not a list"
    if len(distributions) != prediction["horizon"] / prediction["step"]:
        return "wrong number of steps"
    return None


def score_likelihood(prediction, prices):
    problem = check_shape(prediction)
    if problem:
        return failed(problem)
    densities = prediction["distributions"]
    values = []
    try:
        for k, current, previous in step_pairs(prediction, prices):
            x = math.log(prices.prices[current]) - math.log(prices.prices[previous])
            values.append(density_pdf(unwrap(densities[k]), x))
    except Exception as error:  # densitypdf raises on bad specs and on some boundary points
        return failed(f"densitypdf: {error!r}")
    if not values:
        return failed("no step scored")
    score = sum(values) / len(values)
    if not math.isfinite(score):
        return failed("not finite")
    return {"success": True, "score": score, "reason": None}


def crps_integral(spec, x, half_width, points, normalise):
    grid = np.linspace(-half_width, half_width, points)
    dt = grid[1] - grid[0]
    pdfs = np.array([density_pdf(spec, g) for g in grid], dtype=float)
    if normalise:
        integral = np.trapezoid(pdfs, grid)
        if integral > 0:
            pdfs = pdfs / integral
    cdf = np.clip(np.cumsum(pdfs) * dt, 0.0, 1.0)
    indicator = (grid >= x).astype(float)
    return float(np.trapezoid((cdf - indicator) ** 2, grid))


def score_crps(prediction, prices, options):
    problem = check_shape(prediction)
    if problem:
        return failed(problem)
    half_widths = options["half_widths"]
    asset = prediction["asset"]
    if asset not in half_widths:
        asset = {"XAU": "XAUT"}.get(asset, asset)
    if asset not in half_widths:
        return failed("no half width")
    step = prediction["step"]
    base_step = options.get("base_step", 300)
    k_scale = math.sqrt(step / base_step) if step > base_step else 1
    half_width = k_scale * half_widths[asset]
    densities = prediction["distributions"]
    values = []
    try:
        for k, current, previous in sorted(step_pairs(prediction, prices)):
            delta = prices.prices[current] - prices.prices[previous]
            values.append(crps_integral(unwrap(densities[k]), delta, half_width, options.get("points", 256), options.get("normalise", False)))
    except Exception as error:
        return failed(f"densitypdf: {error!r}")
    if not values:
        return failed("no step scored")
    score = float(np.sum(values)) / half_widths[asset]
    if not math.isfinite(score):
        return failed("not finite")
    return {"success": True, "score": score, "reason": None}


def load_prices(request):
    return {asset: Prices(points) for asset, points in request["prices"].items()}


def score_all(request, scorer):
    prices = load_prices(request)
    if scorer == "likelihood":
        return [score_likelihood(p, prices[p["asset"]]) for p in request["predictions"]]
    return [score_crps(p, prices[p["asset"]], request) for p in request["predictions"]]


def evaluate_pdf(case):
    spec, x = case["spec"], case["x"]
    answer = {"densitypdf": None, "densitypdf_error": None, "scipy": None}
    try:
        answer["densitypdf"] = encode_number(density_pdf(spec, x))
    except Exception as error:
        answer["densitypdf_error"] = repr(error)
    if spec.get("type") in ("builtin", "scipy"):
        answer["scipy"] = encode_number(getattr(st, spec["name"])(**spec["params"]).pdf(x))
    return answer


def upstream_crps(cases):
    # Imported here: they pull in pandas and friends, slow to load and needed only by this mode.
    from condorgame.tracker_evaluator import crps_integral as condorgame_crps
    from crunch_synth.tracker_evaluator import crps_integral as synth_crps

    answers = []
    for case in cases:
        h = case["half_width"]
        answers.append({
            "condorgame": condorgame_crps(case["spec"], case["x"], t_min=-h, t_max=h, num_points=256),
            "crunch_synth": synth_crps(case["spec"], case["x"], t_min=-h, t_max=h, num_points=1024),
        })
    return answers


def bench(request):
    """Scores the predictions round and round for `seconds` of CPU time (process time, so that other
    processes competing for the machine do not count against us)."""
    prices = load_prices(request)
    predictions = request["predictions"]
    scorer = request["scorer"]
    started = time.process_time()
    deadline = started + request["seconds"]
    scored = 0
    while True:
        for prediction in predictions:
            series = prices[prediction["asset"]]
            if scorer == "likelihood":
                score_likelihood(prediction, series)
            else:
                score_crps(prediction, series, request)
            scored += 1
            if time.process_time() >= deadline:
                elapsed = time.process_time() - started
                return {"predictions": scored, "cpu_seconds": elapsed, "per_cpu_second": scored / elapsed}


def main():
    request = json.load(sys.stdin)
    mode = request["mode"]
    if mode == "pdf":
        answer = [evaluate_pdf(case) for case in request["cases"]]
    elif mode == "lgamma":
        answer = [math.lgamma(x) for x in request["xs"]]
    elif mode in ("likelihood", "crps"):
        answer = score_all(request, mode)
    elif mode == "upstream_crps":
        answer = upstream_crps(request["cases"])
    elif mode == "bench":
        answer = bench(request)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    json.dump(answer, sys.stdout, allow_nan=False)


if __name__ == "__main__":
    main()
