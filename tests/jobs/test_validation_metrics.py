"""Validation statistics on hand-checkable numbers."""

from __future__ import annotations

import numpy as np
import pytest

from jobs.validation.metrics import (
    actives_in_top,
    bootstrap_statistic,
    enrichment_factor,
    enrichment_stats,
    n_top,
    percentile_interval,
    roc_auc,
    roc_curve,
    spearman,
    spearman_bootstrap,
)
from tests.jobs.validation_data import bootstrap_ci_by_hand


def test_auc_counts_pairs_with_the_active_lower() -> None:
    # actives score 1 and 3, inactives 2 and 4: pairs (1<2, 1<4, 3>2, 3<4) -> 3 of 4
    assert roc_auc([1.0, 2.0, 3.0, 4.0], [True, False, True, False]) == pytest.approx(0.75)
    assert roc_auc([-9.0, -8.0, -5.0], [True, True, False]) == pytest.approx(1.0)
    assert roc_auc([-5.0, -8.0, -9.0], [True, False, False]) == pytest.approx(0.0)
    # a tie counts one half: actives {1, 2}, inactives {2, 3}: 1 + 1 + 0.5 + 1 = 3.5 of 4
    assert roc_auc([1.0, 2.0, 2.0, 3.0], [True, True, False, False]) == pytest.approx(0.875)
    with pytest.raises(ValueError, match="at least one active and one inactive"):
        roc_auc([1.0, 2.0], [False, False])


def test_roc_curve_steps_through_distinct_scores() -> None:
    fpr, tpr = roc_curve([1.0, 2.0, 2.0, 3.0], [True, True, False, False])
    assert fpr.tolist() == [0.0, 0.0, 0.5, 1.0]
    assert tpr.tolist() == [0.0, 0.5, 1.0, 1.0]
    # trapezoid area equals the rank AUC
    assert float(np.trapezoid(tpr, fpr)) == pytest.approx(0.875)


def test_n_top_rounds_half_up_and_is_at_least_one() -> None:
    assert n_top(10, 1) == 1  # 0.1 -> 0 -> at least 1
    assert n_top(50, 5) == 3  # 2.5 -> 3
    assert n_top(30, 5) == 2  # 1.5 -> 2
    assert n_top(1000, 1) == 10
    assert n_top(7, 100) == 7
    with pytest.raises(ValueError):
        n_top(10, 0)


def test_enrichment_factor_by_hand() -> None:
    scores = np.arange(1.0, 11.0)  # 10 drugs, the best is 1.0
    active = np.zeros(10, dtype=bool)
    active[[0, 5]] = True  # actives at scores 1 and 6: 2 of 10
    assert enrichment_factor(scores, active, 10) == pytest.approx(5.0)  # top 1 holds 1 active: (1/1)/(2/10)
    assert enrichment_factor(scores, active, 50) == pytest.approx(1.0)  # top 5 holds 1: (1/5)/(2/10)
    assert enrichment_factor(scores, active, 60) == pytest.approx((2 / 6) / 0.2)
    assert enrichment_factor(scores, active, 100) == pytest.approx(1.0)


def test_ties_at_the_cut_are_shared_out() -> None:
    # top 1 of 4; the two best tie at 1.0 and one of them is active: 0.5 active selected
    scores, active = [1.0, 1.0, 2.0, 3.0], [True, False, False, False]
    assert actives_in_top(scores, active, 1) == pytest.approx(0.5)
    assert enrichment_factor(scores, active, 25) == pytest.approx(0.5 / (1 / 4))
    # the order of the input does not matter
    assert enrichment_factor([1.0, 1.0, 2.0, 3.0], [False, True, False, False], 25) == pytest.approx(2.0)


def test_percentile_interval() -> None:
    assert percentile_interval(np.arange(101.0), 0.9) == pytest.approx((5.0, 95.0))
    assert percentile_interval([np.nan, np.nan]) is None


def test_enrichment_stats_and_bootstrap_are_seeded() -> None:
    rng = np.random.default_rng(0)
    act = rng.normal(-9.0, 1.0, 20)
    ina = rng.normal(-7.0, 1.0, 180)
    scores = np.r_[act, ina]
    active = np.r_[np.ones(20, bool), np.zeros(180, bool)]
    a = enrichment_stats(scores, active, n_boot=300, seed=7)
    b = enrichment_stats(scores, active, n_boot=300, seed=7)
    c = enrichment_stats(scores, active, n_boot=300, seed=8)
    assert a == b and a.auc_ci != c.auc_ci
    assert a.n == 200 and a.n_actives == 20
    assert a.auc == pytest.approx(roc_auc(scores, active))
    assert a.auc_ci is not None and a.auc_ci[0] <= a.auc <= a.auc_ci[1]
    assert 0.8 < a.auc < 1.0
    assert set(a.ef) == {1.0, 5.0}
    assert a.ef[5.0] == pytest.approx(enrichment_factor(scores, active, 5))
    ci5 = a.ef_ci[5.0]
    assert ci5 is not None and ci5[0] <= a.ef[5.0] <= ci5[1] and ci5[1] <= 10.0  # EF5 can reach 1/(20/200)=10
    d = a.as_dict()
    assert d["ef1"] == a.ef[1.0] and d["ef5_ci"] == list(ci5) and d["auc_ci"] == list(a.auc_ci)
    # the generic bootstrap agrees with the built-in one for the AUC
    assert bootstrap_statistic(scores, active, roc_auc, n_boot=300, seed=7) == pytest.approx(a.auc_ci)


def test_enrichment_stats_without_actives_is_reported_not_raised() -> None:
    s = enrichment_stats([1.0, 2.0, 3.0], [False, False, False])
    assert s.n == 3 and s.n_actives == 0 and s.auc is None and s.ef == {}
    assert s.as_dict()["auc"] is None


def test_perfect_separation_has_a_degenerate_interval() -> None:
    s = enrichment_stats([1.0, 2.0, 3.0, 4.0], [True, True, False, False], n_boot=200)
    assert s.auc == 1.0 and s.auc_ci == (1.0, 1.0)
    assert s.ef[1.0] == pytest.approx(2.0)  # top 1 of 4 is active: (1/1)/(2/4)


def test_spearman_by_hand_and_bootstrap() -> None:
    # ranks differ by 0, 1, 1, 0: rho = 1 - 6*2 / (4*15) = 0.8
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2], [1, 2]) is None
    assert spearman([1, 1, 1], [1, 2, 3]) is None
    x = np.arange(30.0)
    y = x + np.random.default_rng(1).normal(0, 5.0, 30)
    c = spearman_bootstrap(x, y, n_boot=400, seed=3)
    assert c.n == 30 and c.rho is not None and c.ci is not None
    assert c.ci[0] < c.rho < c.ci[1] and c.ci[1] <= 1.0
    assert list(c.ci) == pytest.approx(bootstrap_ci_by_hand(x, y, n_boot=400, seed=3))
    assert c.ci[1] - c.ci[0] < 0.5  # narrow enough that a wrong resampling would show
    assert c.p_value is not None and c.p_value < 1e-3
    assert c.mean_diff == pytest.approx(float(np.mean(x - y)))
    assert spearman_bootstrap(x, y, n_boot=400, seed=3) == c
    short = spearman_bootstrap([1.0, 2.0], [2.0, 2.5])
    assert short.rho is None and short.ci is None and short.mean_diff == pytest.approx(-0.75)
