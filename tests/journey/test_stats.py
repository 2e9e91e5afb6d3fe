"""Significance tests of step 6 against values checked by hand and in printed tables."""

import math

import pytest

from cjm.journey import stats


def test_normal_distribution():
    assert stats.normal_cdf(0) == 0.5
    assert stats.normal_cdf(1.96) == pytest.approx(0.975, abs=1e-4)
    assert stats.normal_cdf(-1) == pytest.approx(0.158655, abs=1e-6)
    assert stats.p_from_z(1.96) == pytest.approx(0.05, abs=1e-4)
    assert stats.p_from_z(-2.5758) == pytest.approx(0.01, abs=1e-4)


@pytest.mark.parametrize(
    ("t", "df", "p"),
    [
        (12.706, 1, 0.05),  # Student's t table, two-sided 95 % critical values
        (2.228, 10, 0.05),
        (2.0, 10, 0.0734),
        (3.169, 10, 0.01),
        (2.042, 30, 0.05),
        (0.0, 5, 1.0),
    ],
)
def test_student_t_matches_the_tables(t, df, p):
    assert stats.p_from_t(t, df) == pytest.approx(p, abs=2e-4)
    assert stats.p_from_t(-t, df) == pytest.approx(p, abs=2e-4)


def test_t_approaches_the_normal_for_many_degrees_of_freedom():
    assert stats.p_from_t(1.96, 100_000) == pytest.approx(stats.p_from_z(1.96), abs=1e-5)


def test_incomplete_beta_edges_and_a_closed_form():
    assert stats.incomplete_beta(2, 3, 0) == 0
    assert stats.incomplete_beta(2, 3, 1) == 1
    # I_x(1, b) = 1 − (1 − x)^b
    assert stats.incomplete_beta(1, 3, 0.2) == pytest.approx(1 - 0.8**3)


def test_two_proportions_by_hand():
    # 40 of 100 → 55 of 100: pooled 0.475, se = √(0.475 · 0.525 · 0.02) = 0.070622
    test = stats.two_proportions(40, 100, 55, 100)
    assert test.statistic == pytest.approx(0.15 / math.sqrt(0.475 * 0.525 * 0.02))
    assert test.statistic == pytest.approx(2.124, abs=1e-3)
    assert test.p_value == pytest.approx(0.0337, abs=1e-4)
    assert test.significant


def test_two_proportions_needs_enough_counts():
    assert not stats.two_proportions(1, 10, 3, 10).enough  # n·p̂ = 2 < 5
    assert stats.two_proportions(1, 10, 3, 10).reason == "few-counts"
    assert stats.two_proportions(0, 0, 3, 10).reason == "no-trials"
    assert stats.two_proportions(12, 10, 3, 10).reason == "not-a-share"
    assert not stats.two_proportions(1, 10, 3, 10).significant


def test_one_proportion_by_hand():
    # 55 of 100 against 40 %: z = 0.15 / √(0.4 · 0.6 / 100) = 3.0619
    test = stats.one_proportion(55, 100, 0.4)
    assert test.statistic == pytest.approx(3.0619, abs=1e-4)
    assert test.p_value == pytest.approx(0.0022, abs=1e-4)
    assert stats.one_proportion(5, 10, 0.1).reason == "few-counts"


def test_welch_from_sums_of_squares():
    # n = 10, mean 20, s² = 4 (Σx = 200, Σx² = 9·4 + 200²/10 = 4036) against mean 22, s² = 4
    test = stats.welch(10, 200, 4036, 10, 220, 4876)
    assert test.statistic == pytest.approx(2 / math.sqrt(0.8))
    assert test.df == pytest.approx(18)  # equal variances and sizes: n₁ + n₂ − 2
    assert test.p_value == pytest.approx(0.0382, abs=1e-4)


def test_welch_with_unequal_variances():
    # mean 4, s² = 18/4 = 4.5 (n = 5) against mean 5.5, s² = 2.5/9 = 5/18 (n = 10)
    x1 = [1, 4, 7, 4, 4]
    s1 = sum(x1), sum(v * v for v in x1)
    var1 = stats.variance(5, *s1)
    x2 = [5, 6, 5, 6, 5, 6, 5, 6, 5, 6]
    s2 = sum(x2), sum(v * v for v in x2)
    var2 = stats.variance(10, *s2)
    a, b = var1 / 5, var2 / 10
    test = stats.welch(5, *s1, 10, *s2)
    assert test.df == pytest.approx((a + b) ** 2 / (a * a / 4 + b * b / 9))
    assert test.statistic == pytest.approx((5.5 - 4) / math.sqrt(a + b))
    assert var1 == pytest.approx(4.5) and var2 == pytest.approx(5 / 18)


def test_welch_needs_enough_scores_and_some_spread():
    assert stats.welch(4, 12, 36, 10, 30, 90).reason == "few-counts"
    assert stats.welch(5, 15, 45, 5, 15, 45).reason == "no-spread"


def test_one_sample_t_by_hand():
    # mean 22, s = 2, n = 10 against 20: t = 2 / (2/√10) = 3.1623, df 9 → p = 0.0115
    test = stats.one_sample_t(10, 220, 4876, 20)
    assert test.statistic == pytest.approx(math.sqrt(10))
    assert test.df == 9
    assert test.p_value == pytest.approx(0.0115, abs=1e-4)


def test_nps_by_hand():
    # 50 answers, 20 promoters, 10 detractors: NPS 20, v = (30/50 − 0.2²)·50/49 = 0.571429
    assert stats.nps_variance(50, 20, 10) == pytest.approx((0.6 - 0.04) * 50 / 49)
    test = stats.two_nps(50, 20, 10, 50, 30, 5)  # NPS 20 → 50
    v1, v2 = (0.6 - 0.04) * 50 / 49, (0.7 - 0.25) * 50 / 49
    assert test.statistic == pytest.approx(0.3 / math.sqrt(v1 / 50 + v2 / 50))
    assert test.p_value == pytest.approx(0.0367, abs=1e-4)
    assert stats.two_nps(10, 5, 1, 50, 30, 5).reason == "few-counts"
    one = stats.one_nps(50, 30, 5, 20)
    assert one.statistic == pytest.approx(0.3 / math.sqrt(v2 / 50))


@pytest.mark.parametrize(
    ("baseline", "result", "target", "p", "higher", "expected"),
    [
        (40, 55, 50, 0.01, True, ("won", "target-met")),
        (40, 45, 50, 0.01, True, ("lost", "target-missed")),
        (40, 30, 50, 0.01, True, ("lost", "worse")),
        (40, 55, 50, 0.20, True, ("inconclusive", "not-significant")),
        (40, 55, None, 0.01, True, ("won", "better")),
        (3.0, 2.4, 2.5, 0.01, False, ("won", "target-met")),  # CES: lower is better
        (3.0, 3.6, 2.5, 0.01, False, ("lost", "worse")),
    ],
)
def test_verdict_with_a_test(baseline, result, target, p, higher, expected):
    test = stats.Test("any", 2.0, p)
    found = stats.verdict(baseline, result, target, test, higher)
    assert (found.verdict, found.reason) == expected


def test_verdict_without_enough_data_is_inconclusive():
    found = stats.verdict(40, 90, 50, stats.not_enough("any", "few-counts"))
    assert (found.verdict, found.reason) == ("inconclusive", "no-test")
    assert stats.verdict(40, None, 50, None).verdict == "inconclusive"


def test_verdict_of_typed_figures():
    assert stats.verdict(100, 130, 120, None).verdict == "won"
    assert stats.verdict(100, 110, 120, None).verdict == "lost"
    assert stats.verdict(100, 90, None, None, higher_is_better=False).verdict == "won"
    assert stats.verdict(100, 100, None, None).reason == "no-change"
