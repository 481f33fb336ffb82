"""The Condor benchmark tracker: one normal density per step, fitted to recent log-returns.

Each element k of the answer is the density of ln P(t0+(k+1)*step) - ln P(t0+k*step).
"""

import math

from condorgame.tracker import TrackerBase

MIN_SIGMA = 1e-6


class BenchmarkTracker(TrackerBase):
    def predict(self, asset: str, horizon: int, step: int):
        mu, sigma = self._per_minute_log_return_moments(asset)
        steps = horizon // step
        minutes = step / 60
        loc = mu * minutes
        scale = max(sigma * math.sqrt(minutes), MIN_SIGMA)
        return [
            {
                "type": "mixture",
                "components": [
                    {"density": {"type": "builtin", "name": "norm", "params": {"loc": loc, "scale": scale}}, "weight": 1}
                ],
            }
            for _ in range(steps)
        ]

    def _per_minute_log_return_moments(self, asset: str):
        pairs = self.prices.get_prices(asset, days=1, resolution=60) or []
        prices = [price for _, price in pairs if price and price > 0]
        returns = [math.log(b / a) for a, b in zip(prices, prices[1:])]
        if len(returns) < 2:
            return 0.0, 1e-3
        mean = sum(returns) / len(returns)
        variance = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
        return mean, math.sqrt(variance)
