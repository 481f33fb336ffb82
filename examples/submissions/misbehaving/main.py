"""A tracker that misbehaves on purpose, for tests and demos of the coordinator's failure handling.

The behaviour is read on every call, so a test can change it while the model runs:
the environment variable MISBEHAVE, or else the first word of the file named by MISBEHAVE_FILE
(default: `behaviour` next to this file). Values:
  ok        answer like the benchmark (one normal per step)
  raise     raise an exception (the model server answers MODEL_FAILED)
  sleep     sleep MISBEHAVE_SLEEP seconds (default 30) before answering: a timeout for the caller
  shape     answer with the wrong number of densities
  garbage   answer with something that is not a list of densities
  nan       answer densities whose parameters are NaN / Infinity
"""

import math
import os
import time
from pathlib import Path

from condorgame.tracker import TrackerBase

HERE = Path(__file__).resolve().parent


def behaviour() -> str:
    chosen = os.environ.get("MISBEHAVE")
    if chosen:
        return chosen.strip()
    path = Path(os.environ.get("MISBEHAVE_FILE", HERE / "behaviour"))
    try:
        return path.read_text().split()[0]
    except (OSError, IndexError):
        return "ok"


def normal(scale: float):
    return {"type": "builtin", "name": "norm", "params": {"loc": 0.0, "scale": scale}}


class MisbehavingTracker(TrackerBase):
    def predict(self, asset: str, horizon: int, step: int):
        mode = behaviour()
        steps = horizon // step
        if mode == "raise":
            raise RuntimeError(f"misbehaving tracker asked to raise for {asset}")
        if mode == "sleep":
            time.sleep(float(os.environ.get("MISBEHAVE_SLEEP", "30")))
        if mode == "shape":
            return [normal(1e-3) for _ in range(max(steps - 1, 0))]
        if mode == "garbage":
            return {"not": "a list"}
        if mode == "nan":
            return [{"type": "builtin", "name": "norm", "params": {"loc": math.nan, "scale": math.inf}}] * steps
        return [normal(1e-3 * math.sqrt(step / 60)) for _ in range(steps)]
