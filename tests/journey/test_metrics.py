"""The method's formulas, pinned on hand-computed examples (the arithmetic is in each test)."""

import math

import pytest

from cjm.journey import metrics
from cjm.journey.metrics import Mean, Sums


def sums_of(values):
    """(n, Σx, Σx²) of a list, as SQL computes them."""
    return len(values), sum(values), sum(v * v for v in values)


def close(a, b):
    return math.isclose(a, b, abs_tol=1e-6)


@pytest.mark.parametrize(
    "df, t",
    [(1, 12.706), (2, 4.303), (4, 2.776), (10, 2.228), (29, 2.045), (30, 2.042), (31, 1.96)],
)
def test_student_t_table_then_normal(df, t):
    assert metrics.t95(df) == t


def test_no_interval_without_two_values():
    with pytest.raises(ValueError):
        metrics.t95(0)
    assert metrics.mean_ci(0, 0, 0) == Mean(0)
    one = metrics.mean_ci(*sums_of([5]))
    assert (one.n, one.mean, one.low, one.high, one.has_band) == (1, 5, None, None, False)


def test_mean_with_small_sample_interval():
    # [2, 3, 4, 3, 3]: n = 5, Σ = 15, Σx² = 4+9+16+9+9 = 47, mean 3.
    # s² = (47 − 15²/5) / 4 = (47 − 45) / 4 = 0.5; SE = √(0.5/5) = √0.1 = 0.316228.
    # t(4) = 2.776 → margin = 2.776 × 0.316228 = 0.877849 → [2.122151, 3.877849].
    m = metrics.mean_ci(*sums_of([2, 3, 4, 3, 3]), bounds=(1, 5))
    assert m.n == 5 and m.mean == 3
    assert close(m.low, 2.122151) and close(m.high, 3.877849)
    assert close(m.margin, 0.877849)


def test_mean_with_large_sample_uses_1_96():
    # 20 × 4 and 20 × 5: n = 40, Σ = 180, Σx² = 20×16 + 20×25 = 820, mean 4.5.
    # s² = (820 − 180²/40) / 39 = (820 − 810) / 39 = 0.256410; SE = √(0.256410/40) = 0.080064.
    # df 39 > 30 → 1.96 × 0.080064 = 0.156925 → [4.343075, 4.656925].
    m = metrics.mean_ci(*sums_of([4] * 20 + [5] * 20), bounds=(1, 5))
    assert m.mean == 4.5
    assert close(m.low, 4.343075) and close(m.high, 4.656925)


def test_equal_values_give_a_zero_width_interval():
    # [4, 4, 4]: s² = (48 − 144/3) / 2 = 0 → [4, 4].
    m = metrics.mean_ci(*sums_of([4, 4, 4]))
    assert (m.mean, m.low, m.high, m.margin) == (4, 4, 4, 0)


def test_interval_is_cut_to_the_scale():
    # [4, 5, 3, 4]: n = 4, Σ = 16, Σx² = 16+25+9+16 = 66, mean 4.
    # s² = (66 − 256/4) / 3 = 2/3; SE = √(2/3/4) = 0.408248; t(3) = 3.182 → margin 1.299047.
    # [2.700953, 5.299047], and a CSAT mean cannot pass 5 → [2.700953, 5].
    m = metrics.mean_ci(*sums_of([4, 5, 3, 4]), bounds=(1, 5))
    assert close(m.low, 2.700953) and m.high == 5
    uncut = metrics.mean_ci(*sums_of([4, 5, 3, 4]))
    assert close(uncut.high, 5.299047)


def test_emotion_is_csat_minus_3_with_the_band_moved_and_cut():
    # CSAT [2, 3, 4, 3, 3] → mean 3, band [2.122151, 3.877849] → emotion 0, [−0.877849, 0.877849].
    e = metrics.emotion_of(metrics.mean_ci(*sums_of([2, 3, 4, 3, 3]), bounds=(1, 5)))
    assert e.mean == 0 and close(e.low, -0.877849) and close(e.high, 0.877849)
    # CSAT [1, 2]: mean 1.5, s² = (5 − 9/2) / 1 = 0.5, SE = √(0.5/2) = 0.5, t(1) = 12.706
    # → margin 6.353 → [−4.853, 7.853], cut to [1, 5] → emotion −1.5 on [−2, +2].
    e = metrics.emotion_of(metrics.mean_ci(*sums_of([1, 2]), bounds=(1, 5)))
    assert (e.n, e.mean, e.low, e.high) == (2, -1.5, -2, 2) and close(e.margin, 6.353)
    # One answer of 5 → +2, no band; no answers → nothing.
    assert metrics.emotion_of(metrics.mean_ci(1, 5, 25)) == Mean(1, 2)
    assert metrics.emotion_of(Mean(0)) == Mean(0)


def test_nps_from_counts():
    # 10, 9, 9, 8, 7, 6, 3, 0, 10, 5: promoters (9–10) 4, detractors (0–6) 4 → 40 % − 40 % = 0.
    answers = [10, 9, 9, 8, 7, 6, 3, 0, 10, 5]
    promoters = sum(a >= 9 for a in answers)
    detractors = sum(a <= 6 for a in answers)
    score = metrics.nps(len(answers), promoters, detractors)
    assert (score.promoters, score.detractors, score.passives, score.score) == (4, 4, 2, 0)
    # 8 answers, 5 promoters, 1 detractor: 100 × (5 − 1) / 8 = 50.
    assert metrics.nps(8, 5, 1).score == 50
    assert metrics.nps(3, 0, 3).score == -100 and metrics.nps(2, 2, 0).score == 100
    assert metrics.nps(0, 0, 0).score is None
    with pytest.raises(ValueError):
        metrics.nps(2, 2, 1)


def test_ces_mean_cut_to_1_7():
    # [2, 3, 7]: n = 3, Σ = 12, Σx² = 4+9+49 = 62, mean 4; s² = (62 − 144/3) / 2 = 7;
    # SE = √(7/3) = 1.5275252; t(2) = 4.303 → margin 6.572941 → [−2.57, 10.57] → cut to [1, 7].
    m = metrics.mean_ci(*sums_of([2, 3, 7]), bounds=(1, 7))
    assert (m.mean, m.low, m.high) == (4, 1, 7)
    assert close(metrics.mean_ci(*sums_of([2, 3, 7])).margin, 6.572941)


@pytest.mark.parametrize(
    "n, threshold, level",
    [(0, 5, "none"), (1, 5, "some"), (4, 5, "some"), (5, 5, "enough"), (6, 5, "enough"),
     (1, 1, "enough"), (1, 0, "enough"), (0, 0, "none")],
)  # fmt: skip
def test_coverage(n, threshold, level):
    assert metrics.coverage(n, threshold) == level


def test_summary_of_sums():
    # 6 observations: CSAT 4, 5, 3 (one each); NPS 10, 9, 2, 7; CES 2, 4; one with a verbatim only.
    # CSAT: n 3, Σ 12, Σx² 50 → mean 4, s² = (50 − 48) / 2 = 1, SE = √(1/3) = 0.577350,
    # t(2) = 4.303 → margin 2.484339 → [1.515661, 6.484339] → cut [1.515661, 5].
    # Emotion 4 − 3 = +1, band [−1.484339, +2]. NPS: 2 promoters, 1 detractor of 4 → +25.
    # CES: n 2, Σ 6, Σx² 20 → mean 3.
    summary = metrics.summarize(
        Sums(n=6, csat_n=3, csat_sum=12, csat_sq=50, nps_n=4, promoters=2, detractors=1,
             ces_n=2, ces_sum=6, ces_sq=20)
    )  # fmt: skip
    assert summary.n == 6
    assert summary.csat.mean == 4 and close(summary.csat.low, 1.515661) and summary.csat.high == 5
    assert summary.emotion.mean == 1 and close(summary.emotion.low, -1.484339)
    assert summary.emotion.high == 2
    assert summary.nps.score == 25 and summary.ces.mean == 3
    assert summary.value("csat") == (4, 3)
    assert summary.value("nps") == (25, 4)
    assert summary.value("ces") == (3, 2)
    assert summary.coverage(5) == "enough" and summary.coverage(7) == "some"
    empty = metrics.summarize(Sums())
    assert empty.csat == empty.emotion == empty.ces == Mean(0) and empty.nps.score is None
    assert empty.coverage(5) == "none"


def test_manual_emotion_is_the_mean_of_the_known_scores():
    # (1 + (−2)) / 2 = −0.5; unknown scores are left out.
    assert metrics.manual_emotion([1, None, -2]) == -0.5
    assert metrics.manual_emotion([None]) is None and metrics.manual_emotion([]) is None


@pytest.mark.parametrize(
    "metric, value, share",
    [("csat", 5, 1), ("csat", 1, 0), ("csat", 3, 0.5), ("ces", 1, 1), ("ces", 7, 0),
     ("ces", 4, 0.5), ("nps", -100, 0), ("nps", 0, 0.5), ("nps", 100, 1), ("csat", 9, 1)],
)  # fmt: skip
def test_goodness_puts_values_on_a_0_to_1_colour_scale(metric, value, share):
    assert metrics.goodness(metric, value) == share
