"""A two-regime tracker: a calm normal and a fat-tailed Student t, mixed 80/20 per step.

The weights sum to 1, as the game requires; the wide component keeps likelihood from collapsing on jumps.
"""

import math

from condorgame.tracker import TrackerBase

from regimes import calm_and_stressed_scales


class MixtureTracker(TrackerBase):
    def predict(self, asset: str, horizon: int, step: int):
        pairs = self.prices.get_prices(asset, days=1, resolution=60) or []
        prices = [price for _, price in pairs if price and price > 0]
        calm, stressed = calm_and_stressed_scales(prices, step)
        density = {
            "type": "mixture",
            "components": [
                {"density": {"type": "builtin", "name": "norm", "params": {"loc": 0.0, "scale": calm}}, "weight": 0.8},
                {
                    "density": {"type": "builtin", "name": "t", "params": {"df": 3.0, "loc": 0.0, "scale": stressed}},
                    "weight": 0.2,
                },
            ],
        }
        return [{"step": (k + 1) * step, "prediction": density} for k in range(horizon // step)]
