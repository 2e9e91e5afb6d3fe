"""Significance tests for step 6 experiments, from counts and sums only (stdlib `math`).

An experiment compares a baseline with a result measured in its period. Which test fits depends
on what the KPI counts:
- a conversion (hits of n customers): the two-proportion z-test, pooled standard error;
- a mean score (CSAT 1–5, CES 1–7) from n, Σx and Σx²: Welch's t-test (unequal variances,
  Welch–Satterthwaite degrees of freedom);
- NPS from promoters and detractors: each answer scores +1, 0 or −1, NPS = 100 × their mean,
  so two NPS compare as two means with the trinomial variance (a z-test: NPS needs many answers).
When only a typed baseline value is known (no counts behind it), the result is tested against it
as a fixed value (one-sample tests). Below the minimum counts a test says "not enough data"
rather than a p-value. All p-values are two-sided.
"""

import math
from dataclasses import dataclass

ALPHA = 0.05  # significance level of every verdict
MIN_EXPECTED = 5  # two-proportion z-test: each group needs n·p ≥ 5 and n·(1 − p) ≥ 5 (pooled p)
MIN_MEAN_N = 5  # Welch / one-sample t-test: at least this many scores per group
MIN_NPS_N = 20  # NPS z-test: at least this many answers per group


@dataclass(frozen=True)
class Test:
    """The outcome of a significance test: its name, statistic, degrees of freedom (t-tests),
    two-sided p-value, and `enough` False (with `reason`) when the counts were too small."""

    name: str
    statistic: float | None = None
    p_value: float | None = None
    df: float | None = None
    enough: bool = True
    reason: str = ""

    @property
    def significant(self) -> bool:
        """Whether the difference is significant at ALPHA."""
        return self.enough and self.p_value is not None and self.p_value < ALPHA


def not_enough(name: str, reason: str) -> Test:
    """A test that could not run: too few counts (the reason says which)."""
    return Test(name, enough=False, reason=reason)


def normal_cdf(z: float) -> float:
    """Φ(z), the standard normal distribution function, via erf."""
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def p_from_z(z: float) -> float:
    """Two-sided p-value of a standard normal statistic: 2·(1 − Φ(|z|)), via erfc for accuracy."""
    return math.erfc(abs(z) / math.sqrt(2))


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 1e-15
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((a + m2 - 1) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1) < eps:
            break
    return h


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), 0 ≤ x ≤ 1."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    front = math.exp(log_front + a * math.log(x) + b * math.log(1 - x))
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(a, b, x) / a
    return 1 - front * _beta_fraction(b, a, 1 - x) / b


def p_from_t(t: float, df: float) -> float:
    """Two-sided p-value of Student's t with df degrees of freedom: I_{df/(df+t²)}(df/2, 1/2)."""
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    return incomplete_beta(df / 2, 0.5, df / (df + t * t))


def two_proportions(hits1: int, n1: int, hits2: int, n2: int) -> Test:
    """Two-proportion z-test of p₁ = hits₁/n₁ against p₂ = hits₂/n₂ (group 1 the baseline):
    z = (p₂ − p₁) / √(p̂(1 − p̂)(1/n₁ + 1/n₂)), p̂ = (hits₁ + hits₂)/(n₁ + n₂)."""
    name = "two-proportion z-test"
    if min(n1, n2) <= 0:
        return not_enough(name, "no-trials")
    if not (0 <= hits1 <= n1 and 0 <= hits2 <= n2):
        return not_enough(name, "not-a-share")
    pooled = (hits1 + hits2) / (n1 + n2)
    if min(n * p for n in (n1, n2) for p in (pooled, 1 - pooled)) < MIN_EXPECTED:
        return not_enough(name, "few-counts")
    z = (hits2 / n2 - hits1 / n1) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return Test(name, z, p_from_z(z))


def one_proportion(hits: int, n: int, p0: float) -> Test:
    """One-sample z-test of hits/n against a fixed share p0 (0 < p0 < 1):
    z = (p̂ − p0) / √(p0(1 − p0)/n)."""
    name = "one-proportion z-test"
    if n <= 0:
        return not_enough(name, "no-trials")
    if not 0 <= hits <= n or not 0 < p0 < 1:
        return not_enough(name, "not-a-share")
    if min(n * p0, n * (1 - p0)) < MIN_EXPECTED:
        return not_enough(name, "few-counts")
    z = (hits / n - p0) / math.sqrt(p0 * (1 - p0) / n)
    return Test(name, z, p_from_z(z))


def variance(n: int, total: float, total_sq: float) -> float:
    """Sample variance from n, Σx and Σx² (n ≥ 2); never negative despite float rounding."""
    return max(0.0, (total_sq - total * total / n) / (n - 1))


def welch(n1: int, total1: float, sq1: float, n2: int, total2: float, sq2: float) -> Test:
    """Welch's t-test of two means from their n, Σx and Σx² (group 1 the baseline):
    t = (x̄₂ − x̄₁) / √(s₁²/n₁ + s₂²/n₂), df = (s₁²/n₁ + s₂²/n₂)² /
    ((s₁²/n₁)²/(n₁ − 1) + (s₂²/n₂)²/(n₂ − 1))."""
    name = "Welch's t-test"
    if min(n1, n2) < MIN_MEAN_N:
        return not_enough(name, "few-counts")
    a, b = variance(n1, total1, sq1) / n1, variance(n2, total2, sq2) / n2
    if a + b == 0:
        return not_enough(name, "no-spread")
    diff = total2 / n2 - total1 / n1
    t = diff / math.sqrt(a + b)
    df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
    return Test(name, t, p_from_t(t, df), df)


def one_sample_t(n: int, total: float, total_sq: float, mu0: float) -> Test:
    """One-sample t-test of a mean against a fixed value: t = (x̄ − μ₀) / (s/√n), df = n − 1."""
    name = "one-sample t-test"
    if n < MIN_MEAN_N:
        return not_enough(name, "few-counts")
    spread = variance(n, total, total_sq) / n
    if spread == 0:
        return not_enough(name, "no-spread")
    t = (total / n - mu0) / math.sqrt(spread)
    return Test(name, t, p_from_t(t, n - 1), n - 1)


def nps_variance(n: int, promoters: int, detractors: int) -> float:
    """Variance of one answer scored +1 (promoter), 0 (passive), −1 (detractor):
    (P + D)/n − ((P − D)/n)², times n/(n − 1) for the sample estimate."""
    mean = (promoters - detractors) / n
    return ((promoters + detractors) / n - mean * mean) * n / (n - 1)


def two_nps(n1: int, p1: int, d1: int, n2: int, p2: int, d2: int) -> Test:
    """z-test of two NPS (group 1 the baseline) on the answers' +1/0/−1 scores:
    z = (NPS₂ − NPS₁)/100 / √(v₁/n₁ + v₂/n₂), v the trinomial variance (nps_variance)."""
    name = "NPS z-test"
    if min(n1, n2) < MIN_NPS_N:
        return not_enough(name, "few-counts")
    spread = nps_variance(n1, p1, d1) / n1 + nps_variance(n2, p2, d2) / n2
    if spread <= 0:
        return not_enough(name, "no-spread")
    z = ((p2 - d2) / n2 - (p1 - d1) / n1) / math.sqrt(spread)
    return Test(name, z, p_from_z(z))


def one_nps(n: int, promoters: int, detractors: int, score0: float) -> Test:
    """z-test of an NPS against a fixed score (−100…100): z = (NPS − score₀)/100 / √(v/n)."""
    name = "NPS z-test"
    if n < MIN_NPS_N:
        return not_enough(name, "few-counts")
    spread = nps_variance(n, promoters, detractors) / n
    if spread <= 0:
        return not_enough(name, "no-spread")
    z = ((promoters - detractors) / n - score0 / 100) / math.sqrt(spread)
    return Test(name, z, p_from_z(z))


@dataclass(frozen=True)
class Verdict:
    """won / lost / inconclusive, and why: "no-result", "no-test", "not-significant",
    "target-met", "target-missed", "worse", "better", "no-change"."""

    verdict: str
    reason: str


def verdict(
    baseline: float | None,
    result: float | None,
    target: float | None,
    test: Test | None,
    higher_is_better: bool = True,
) -> Verdict:
    """The verdict of an experiment from its figures and its test.

    With a test: not enough data or p ≥ ALPHA → inconclusive; a significant change for the worse
    → lost; for the better → won if the target is met (or none was set), else lost ("better,
    but short of the target": the hypothesis did not hold). Without a test (typed figures): the
    target decides when there is one; else the direction of the change from the baseline."""
    if result is None:
        return Verdict("inconclusive", "no-result")
    sign = 1 if higher_is_better else -1

    def reaches(value: float) -> bool:
        return sign * (result - value) >= 0

    if test is not None:
        if not test.significant:
            return Verdict("inconclusive", "not-significant" if test.enough else "no-test")
        if baseline is not None and not reaches(baseline):
            return Verdict("lost", "worse")
        if target is None:
            return Verdict("won", "better")
        return Verdict("won", "target-met") if reaches(target) else Verdict("lost", "target-missed")
    if target is not None:
        return Verdict("won", "target-met") if reaches(target) else Verdict("lost", "target-missed")
    if baseline is None or result == baseline:
        return Verdict("inconclusive", "no-change" if baseline is not None else "no-test")
    return Verdict("won", "better") if reaches(baseline) else Verdict("lost", "worse")
