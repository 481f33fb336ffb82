import math


def calm_and_stressed_scales(prices, step):
    """Per-step scales of the calm and stressed regimes from one-minute log-returns."""
    returns = [math.log(b / a) for a, b in zip(prices, prices[1:])]
    if len(returns) < 2:
        per_minute = 1e-3
    else:
        per_minute = math.sqrt(sum(r * r for r in returns) / len(returns)) or 1e-3
    calm = per_minute * math.sqrt(step / 60)
    return calm, calm * 3
