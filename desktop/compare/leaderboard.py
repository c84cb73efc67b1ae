"""A personal leaderboard from blind-arena votes: Bradley–Terry strengths on the Elo scale.

Each vote is a game between two models. A tie counts half a win to each; "both bad" says
nothing about which is better and counts as a tie too (it still counts as a game played).
Strengths are the maximum-likelihood Bradley–Terry fit (Hunter's MM iterations, with a
little prior: one virtual tie against an average opponent, so a model that has only won
or only lost still gets a finite rating). The uncertainty is a bootstrap over the votes:
the 95% interval of a model's rating when the votes are drawn again with replacement.

An interval needs votes to resample. After one vote every resample is that vote again and the
"interval" is a single point; after a few, a model's resampled record takes so few values
(n + 1 tallies from n games) that the 2.5th and 97.5th percentiles are just its best and worst
case. So a model gets an interval only once it has played ``MIN_VOTES`` games and the resamples
actually disagree; until then its ``low`` and ``high`` are None ("needs more votes").
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

OUTCOMES = ("a", "b", "tie", "both_bad")
BASE = 1000.0  # the average model's rating
SCALE = 400.0 / math.log(10)  # Elo points per unit of log-strength
# Games a model must have played before its rating gets a 95% interval. A resample of n games
# that draws one game n times says nothing about spread; that happens n·(1/n)^n of the time:
# always at 1 game, 50% at 2, 11% at 3, 1.6% at 4 (close to the 2.5% tail the interval reads)
# and 0.2% at 5, the first count where the tails come from resamples that differ.
MIN_VOTES = 5


@dataclass(frozen=True)
class Vote:
    model_a: str
    model_b: str
    outcome: str  # one of OUTCOMES
    category: str = ""


@dataclass(frozen=True)
class Standing:
    model: str
    rating: float
    low: float | None  # the 95% interval; None while it needs more votes (see MIN_VOTES)
    high: float | None
    games: int
    wins: float  # ties as halves

    @property
    def interval(self) -> tuple[float, float] | None:
        return None if self.low is None or self.high is None else (self.low, self.high)


def _scores(votes: Sequence[Vote]) -> tuple[list[str], dict[tuple[int, int], float], list[float]]:
    models = sorted({m for v in votes for m in (v.model_a, v.model_b)})
    index = {m: i for i, m in enumerate(models)}
    games: dict[tuple[int, int], float] = {}
    wins = [0.0] * len(models)
    for vote in votes:
        a, b = index[vote.model_a], index[vote.model_b]
        if a == b:
            continue
        key = (min(a, b), max(a, b))
        games[key] = games.get(key, 0.0) + 1.0
        if vote.outcome == "a":
            wins[a] += 1.0
        elif vote.outcome == "b":
            wins[b] += 1.0
        else:
            wins[a] += 0.5
            wins[b] += 0.5
    return models, games, wins


def fit(votes: Sequence[Vote], iterations: int = 200) -> dict[str, float]:
    """Each model's rating (Elo scale, the field's geometric mean at BASE)."""
    models, games, wins = _scores(votes)
    n = len(models)
    if n == 0:
        return {}
    strength = [1.0] * n
    for _ in range(iterations):
        new = []
        for i in range(n):
            # The prior: a virtual tie against an opponent of strength 1.
            denominator = 2.0 / (strength[i] + 1.0)
            for (a, b), count in games.items():
                if i in (a, b):
                    other = b if i == a else a
                    denominator += count / (strength[i] + strength[other])
            new.append((wins[i] + 1.0) / denominator)
        mean_log = sum(math.log(s) for s in new) / n
        strength = [s / math.exp(mean_log) for s in new]
    return {m: BASE + SCALE * math.log(s) for m, s in zip(models, strength, strict=True)}


def standings(
    votes: Sequence[Vote], category: str | None = None, resamples: int = 200, seed: int = 7
) -> list[Standing]:
    """The leaderboard, best first; ``category`` keeps the votes of one prompt category."""
    chosen = [v for v in votes if category is None or v.category == category]
    ratings = fit(chosen)
    if not ratings:
        return []
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {m: [] for m in ratings}
    for _ in range(resamples):
        drawn = [chosen[rng.randrange(len(chosen))] for _ in chosen]
        refit = fit(drawn, iterations=60)
        for model in ratings:
            samples[model].append(refit.get(model, BASE))
    models, _games, wins = _scores(chosen)
    played = {m: sum(1 for v in chosen if m in (v.model_a, v.model_b)) for m in models}
    table = []
    for i, model in enumerate(models):
        drawn_ratings = sorted(samples[model])
        low = drawn_ratings[int(0.025 * (len(drawn_ratings) - 1))]
        high = drawn_ratings[int(0.975 * (len(drawn_ratings) - 1))]
        if played[model] < MIN_VOTES or high - low < 0.5:  # nothing to resample yet: no interval
            table.append(Standing(model, ratings[model], None, None, played[model], wins[i]))
        else:
            table.append(Standing(model, ratings[model], low, high, played[model], wins[i]))
    return sorted(table, key=lambda s: s.rating, reverse=True)
