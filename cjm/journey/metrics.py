"""The method's formulas, defined once: emotion from CSAT, means with a 95 % confidence interval,
NPS, CES and evidence coverage. Inputs are the sums SQL computes (n, Σx, Σx²), so nothing here
needs the observations themselves."""

import math
from dataclasses import dataclass

from .model import CES_RANGE, CSAT_RANGE, EMOTION_MAX, EMOTION_MIN

COVERAGE = ("none", "some", "enough")
# Two-sided 95 % critical values of Student's t for 1–30 degrees of freedom; beyond, normal 1.96.
T95 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
Z95 = 1.96
# Emotion from evidence = mean CSAT − 3: CSAT 1…5 lands on −2…+2.
CSAT_NEUTRAL = 3


def t95(df: int) -> float:
    """The 95 % two-sided critical value for df degrees of freedom (df ≥ 1)."""
    if df < 1:
        raise ValueError("a confidence interval needs at least 2 observations")
    return T95[df - 1] if df <= len(T95) else Z95


@dataclass(frozen=True)
class Mean:
    """A mean of n values with its 95 % confidence interval: `margin` is the t-interval's half
    width, `low`/`high` its ends cut to the scale (all None when n < 2)."""

    n: int
    mean: float | None = None
    low: float | None = None
    high: float | None = None
    margin: float | None = None

    @property
    def has_band(self) -> bool:
        """Whether there is an interval to draw (two or more values)."""
        return self.margin is not None

    def shifted(self, by: float, bounds: tuple[float, float]) -> "Mean":
        """The same mean moved onto another scale (e.g. CSAT → emotion), cut to its bounds."""
        if self.mean is None:
            return self
        if self.margin is None:
            return Mean(self.n, self.mean + by)
        low, high = max(bounds[0], self.low + by), min(bounds[1], self.high + by)
        return Mean(self.n, self.mean + by, low, high, self.margin)


def mean_ci(n: int, total: float, total_sq: float, bounds: tuple[float, float] | None = None):
    """Mean and 95 % interval from n, Σx and Σx² (Student t for small n). The interval's ends
    are cut to the scale's bounds: the true mean of values on a 1–5 scale cannot leave 1–5."""
    if n <= 0:
        return Mean(0)
    mean = total / n
    if n == 1:
        return Mean(1, mean)
    # Sample variance; max() absorbs float rounding when all values are equal.
    variance = max(0.0, (total_sq - total * total / n) / (n - 1))
    margin = t95(n - 1) * math.sqrt(variance / n)
    low, high = mean - margin, mean + margin
    if bounds:
        low, high = max(bounds[0], low), min(bounds[1], high)
    return Mean(n, mean, low, high, margin)


def emotion_of(csat: Mean) -> Mean:
    """Emotion on −2…+2 from a CSAT mean: mean CSAT − 3, the band moved with it."""
    return csat.shifted(-CSAT_NEUTRAL, (EMOTION_MIN, EMOTION_MAX))


@dataclass(frozen=True)
class Nps:
    """Net Promoter Score from n answers 0–10: % promoters (9–10) − % detractors (0–6)."""

    n: int
    promoters: int = 0
    detractors: int = 0

    @property
    def passives(self) -> int:
        """Answers of 7 or 8."""
        return self.n - self.promoters - self.detractors

    @property
    def score(self) -> float | None:
        """−100…+100, None without answers."""
        return None if self.n == 0 else 100 * (self.promoters - self.detractors) / self.n


def nps(n: int, promoters: int, detractors: int) -> Nps:
    """NPS from the counts of answers, promoters (9–10) and detractors (0–6)."""
    if not 0 <= promoters + detractors <= n:
        raise ValueError("promoters and detractors are part of the answers")
    return Nps(n, promoters, detractors)


def coverage(n: int, threshold: int) -> str:
    """Evidence coverage: "none" without observations, "enough" from the map's threshold on."""
    if n <= 0:
        return "none"
    return "enough" if n >= max(threshold, 1) else "some"


@dataclass(frozen=True)
class Sums:
    """What SQL adds up for a group of observations (every figure follows from these)."""

    n: int = 0  # observations, whatever they carry
    csat_n: int = 0
    csat_sum: float = 0
    csat_sq: float = 0
    nps_n: int = 0
    promoters: int = 0
    detractors: int = 0
    ces_n: int = 0
    ces_sum: float = 0
    ces_sq: float = 0


@dataclass(frozen=True)
class Summary:
    """The figures the map shows for a group of observations, each with its own n."""

    n: int
    csat: Mean
    emotion: Mean
    nps: Nps
    ces: Mean

    def coverage(self, threshold: int) -> str:
        """none / some / enough for this many observations."""
        return coverage(self.n, threshold)

    def value(self, metric: str) -> tuple[float | None, int]:
        """(value, n) of one metric: "csat", "nps", "ces" or "emotion"."""
        if metric == "nps":
            return self.nps.score, self.nps.n
        figure = getattr(self, metric)
        return figure.mean, figure.n


def summarize(sums: Sums) -> Summary:
    """Every figure of a group from its sums: CSAT and emotion with intervals, NPS, CES."""
    csat = mean_ci(sums.csat_n, sums.csat_sum, sums.csat_sq, CSAT_RANGE)
    return Summary(
        n=sums.n,
        csat=csat,
        emotion=emotion_of(csat),
        nps=nps(sums.nps_n, sums.promoters, sums.detractors),
        ces=mean_ci(sums.ces_n, sums.ces_sum, sums.ces_sq, CES_RANGE),
    )


def manual_emotion(scores) -> float | None:
    """The mean of the team's own emotion scores (None if none), shown where evidence is missing."""
    values = [s for s in scores if s is not None]
    return sum(values) / len(values) if values else None


# How good a value is on its scale, 0 (worst) … 1 (best): CES is better when lower.
SCALES = {"csat": CSAT_RANGE, "nps": (-100, 100), "ces": CES_RANGE, "emotion": (-2, 2)}
LOWER_IS_BETTER = {"ces"}


def goodness(metric: str, value: float) -> float:
    """Where a value sits between its scale's worst (0) and best (1), for colour scales."""
    low, high = SCALES[metric]
    share = min(1.0, max(0.0, (value - low) / (high - low)))
    return 1 - share if metric in LOWER_IS_BETTER else share
